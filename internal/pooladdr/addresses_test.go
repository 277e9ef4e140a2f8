package pooladdr

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseAddressEntry(t *testing.T) {
	for _, tc := range []struct {
		entry   string
		want    []string
		wantErr string
	}{
		{entry: "192.0.2.7/24", want: []string{"192.0.2.0/24"}},
		{entry: "2001:db8::/64", want: []string{"2001:db8::/64"}},
		{entry: "192.0.2.10 - 192.0.2.20", want: []string{"192.0.2.10/31", "192.0.2.12/30", "192.0.2.16/30", "192.0.2.20/32"}},
		{entry: "192.0.2.0-192.0.2.255", want: []string{"192.0.2.0/24"}},
		{entry: "2001:db8::1-2001:db8::2", want: []string{"2001:db8::1/128", "2001:db8::2/128"}},
		{entry: "192.0.2.5-192.0.2.5", want: []string{"192.0.2.5/32"}},
		{entry: "192.0.2.9-192.0.2.1", wantErr: "the range start 192.0.2.9 is after its end 192.0.2.1"},
		{entry: "192.0.2.1-2001:db8::1", wantErr: "mixes an IPv4 and an IPv6"},
		{entry: "x-192.0.2.1", wantErr: `the range start "x" is not an IP address`},
		{entry: " 192.0.2.0/24", wantErr: "not a CIDR"},
		{entry: "::ffff:192.0.2.0/120", wantErr: "IPv4-mapped"},
		{entry: "fe80::1%eth0-fe80::2", wantErr: "not an IP address"},
	} {
		got, err := ParseAddressEntry(tc.entry)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseAddressEntry(%q) error = %v, want it to contain %q", tc.entry, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseAddressEntry(%q): %v", tc.entry, err)
			continue
		}
		var gotText []string
		for _, p := range got {
			gotText = append(gotText, p.String())
		}
		if d := cmp.Diff(tc.want, gotText); d != "" {
			t.Errorf("ParseAddressEntry(%q) (-want +got):\n%s", tc.entry, d)
		}
	}
}

func TestLastAddr(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.0/24": "192.0.2.255", "192.0.2.4/30": "192.0.2.7", "192.0.2.9/32": "192.0.2.9",
		"2001:db8::/64": "2001:db8::ffff:ffff:ffff:ffff", "0.0.0.0/0": "255.255.255.255",
	} {
		if got := LastAddr(netip.MustParsePrefix(in)); got.String() != want {
			t.Errorf("LastAddr(%s) = %s, want %s", in, got, want)
		}
	}
}
