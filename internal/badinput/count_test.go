package badinput

import "testing"

// TestTable checks the table itself: at least 150 cases, unique names, an
// expectation for each.
func TestTable(t *testing.T) {
	cases := Cases()
	if len(cases) < 150 {
		t.Errorf("%d cases; the table must hold at least 150", len(cases))
	}
	names := map[string]bool{}
	objects := map[string]bool{}
	for _, c := range cases {
		if names[c.Name] {
			t.Errorf("case name %q is used twice", c.Name)
		}
		names[c.Name] = true
		key := c.Kind() + "/" + c.ObjectName()
		if objects[key] {
			t.Errorf("case %q: object %s is used by another case", c.Name, key)
		}
		objects[key] = true
		if c.Field == "" && c.Reason == "" {
			t.Errorf("case %q names neither a field nor a reason", c.Name)
		}
	}
	t.Logf("%d cases", len(cases))
}
