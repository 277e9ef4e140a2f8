package translate

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestConfigName(t *testing.T) {
	long := strings.Repeat("a", 250) + ".example.com" // a valid node name alone, too long with the prefix
	cases := []struct {
		prefix, node string
		want         string // "" when only validity and stability are checked
	}{
		{"frrgen-", "node-a", "frrgen-node-a"},
		{"frrgen-", "worker-1.example.com", "frrgen-worker-1.example.com"},
		{"frrgen-", long, ""},
		{"frrgen-", long + "x", ""},
		{"FRR_", "node-a", "frr-node-a-a02f57bf79"},
		{"-", "node-a", ""},
	}
	seen := map[string]string{}
	for _, tc := range cases {
		got := ConfigName(tc.prefix, tc.node)
		if tc.want != "" && got != tc.want {
			t.Errorf("ConfigName(%q, %q) = %q; want %q", tc.prefix, tc.node, got, tc.want)
		}
		if errs := validation.IsDNS1123Subdomain(got); len(errs) != 0 {
			t.Errorf("ConfigName(%q, %.20q...) = %q is not a valid name: %v", tc.prefix, tc.node, got, errs)
		}
		if got != ConfigName(tc.prefix, tc.node) {
			t.Errorf("ConfigName(%q, %q) is not stable", tc.prefix, tc.node)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("%q and %q both map to %q", other, tc.prefix+tc.node, got)
		}
		seen[got] = tc.prefix + tc.node
	}
}
