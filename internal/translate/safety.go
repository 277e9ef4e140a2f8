package translate

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
)

// The checks on single values that reach frr.conf: the same rules as the
// CRDs' admission markers (api/), applied again because `frrgen render` reads
// files that never passed admission. internal/badinput holds the table that
// feeds the same inputs to both.

const (
	// maxPasswordLength is the TCP-MD5 key limit (TCP_MD5SIG_MAXKEYLEN).
	maxPasswordLength = 80
	// maxIfNameLength is Linux's IFNAMSIZ minus the terminating NUL.
	maxIfNameLength = 15
	// maxBFDProfileName keeps a profile name within FRR's 64 characters.
	maxBFDProfileName = 63
	// maxBGPTimer is FRR's largest hold, keepalive and connect time.
	maxBGPTimer = 65535 * time.Second
	// minHoldTime is the smallest non-zero hold time BGP allows.
	minHoldTime = 3 * time.Second
)

// List limits, as the CRDs' maxItems / maxProperties.
const (
	maxSelectors        = 32
	maxMatchExpressions = 32
	maxSelectorValues   = 64
	maxMatchLabels      = 64
	maxPoolAddresses    = 128
	maxNameLists        = 1000 // peers, ipAddressPools, namespaces, aliases
)

// isFRRWord reports whether s can be written into frr.conf as one word:
// printable ASCII without spaces. Control characters would start a new
// command line; spaces would add arguments; FRR's parser is byte-oriented
// and frr-reload.py compares lines as text, so non-ASCII is refused too.
func isFRRWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '!' || s[i] > '~' {
			return false
		}
	}
	return true
}

// ifNameProblem says why s is not a Linux interface name frr.conf can carry
// (a VRF is an interface too), or "" when it is one.
func ifNameProblem(s string) string {
	switch {
	case s == "" || len(s) > maxIfNameLength:
		return fmt.Sprintf("a Linux interface name has 1 to %d characters, this one has %d", maxIfNameLength, len(s))
	case !isFRRWord(s) || strings.ContainsAny(s, "/:"):
		return "a Linux interface name is printable ASCII without spaces, / or :"
	case s == "." || s == "..":
		return "a Linux interface name cannot be . or .."
	}
	return ""
}

// unicastProblem says why a peer or source address cannot be used by FRR,
// or "" when it can. An IPv6 link-local address needs an interface scope,
// which neither neighbor address nor update-source can carry.
func unicastProblem(a netip.Addr, useInterface bool) string {
	switch {
	case a.Is4In6():
		return "an IPv4-mapped IPv6 address is not allowed; write the IPv4 address"
	case a.Is6() && a.IsLinkLocalUnicast():
		if useInterface {
			return "an IPv6 link-local address needs an interface, which a numbered session cannot name; set interface instead (an unnumbered session)"
		}
		return "an IPv6 link-local address needs an interface scope, which update-source cannot be given"
	case !(a.IsGlobalUnicast() || a.IsLoopback() || a.Is4() && a.IsLinkLocalUnicast()):
		return "must be a unicast address, not unspecified, multicast or broadcast"
	}
	return ""
}

// bfdProfileNameProblem says why name cannot be a BFD profile name in
// frr.conf, or "" when it can.
func bfdProfileNameProblem(name string) string {
	if len(name) > maxBFDProfileName {
		return fmt.Sprintf("a BFDProfile name has at most %d characters (it becomes an FRR bfd profile name), this one has %d", maxBFDProfileName, len(name))
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return "must be the name of a BFDProfile: " + strings.Join(errs, "; ")
	}
	return ""
}

// aliasNameProblem says why name cannot be a community alias, or "".
func aliasNameProblem(name string) string {
	if !isFRRWord(name) {
		return "only printable ASCII characters without spaces are allowed"
	}
	if n := strings.Count(name, ":") + 1; n == 2 || n == 4 {
		return "a name with two or four :-separated parts is read as a community value (a:b or large:a:b:c), so the alias would shadow a literal; choose a name without that shape"
	}
	return ""
}

// timerProblem says why d is not a whole number of seconds in [lo, hi]
// (or 0, when zeroOK), or "".
func timerProblem(d, lo, hi time.Duration, zeroOK bool) string {
	if d%time.Second != 0 || d < 0 || d > hi || (d < lo && !(zeroOK && d == 0)) {
		if zeroOK && lo > 0 {
			return fmt.Sprintf("must be 0 or a whole number of seconds between %s and %s", lo, secondsText(hi))
		}
		return fmt.Sprintf("must be a whole number of seconds between %s and %s", lo, secondsText(hi))
	}
	return ""
}

// secondsText prints 65535s rather than Go's 18h12m15s, as the CRDs do.
func secondsText(d time.Duration) string {
	return fmt.Sprintf("%ds", int64(d/time.Second))
}

// checkListLength reports a list longer than the CRD's maxItems.
func checkListLength(d *diagnostics, ref ObjectRef, field string, n, limit int) bool {
	if n > limit {
		d.problem(ref, field, fmt.Sprint(n), "%d entries are listed; at most %d are allowed", n, limit)
		return false
	}
	return true
}
