package translate

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// ConfigName is the name of the FRRConfiguration of a node.
func ConfigName(prefix, node string) string {
	return objectName(prefix + node)
}

// objectName returns want when it is a valid object name (a DNS subdomain
// of at most 253 characters). Otherwise it returns a valid name derived from
// it: lower-cased, other characters replaced by '-', cut, and ended with a
// hash of want, so that two different wants never share a name.
func objectName(want string) string {
	if len(validation.IsDNS1123Subdomain(want)) == 0 {
		return want
	}
	sum := sha256.Sum256([]byte(want))
	suffix := hex.EncodeToString(sum[:])[:10]
	var b strings.Builder
	for _, r := range strings.ToLower(want) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' || r == '.' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	base := b.String()
	if limit := validation.DNS1123SubdomainMaxLength - len(suffix) - 1; len(base) > limit {
		base = base[:limit]
	}
	// A subdomain starts and ends with an alphanumeric, and no label is empty.
	base = strings.Trim(base, "-.")
	for strings.Contains(base, "..") {
		base = strings.ReplaceAll(base, "..", ".")
	}
	base = strings.ReplaceAll(strings.ReplaceAll(base, ".-", ".x"), "-.", "x.")
	if base == "" {
		return suffix
	}
	return base + "-" + suffix
}
