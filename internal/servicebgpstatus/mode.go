package servicebgpstatus

import "fmt"

// Mode is the value of --service-bgp-status.
type Mode string

const (
	// Auto writes the objects on MetalLB's schemas (alongside MetalLB,
	// whose speakers frrgen replaces) and not on frrgen's own.
	Auto Mode = "auto"
	On   Mode = "true"
	Off  Mode = "false"
)

// ParseMode reads a --service-bgp-status value.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Auto, On, Off:
		return m, nil
	}
	return "", fmt.Errorf("--service-bgp-status must be auto, true or false, not %q", s)
}

// CRD is the CRD that serves the kind.
const CRD = "servicebgpstatuses.metallb.io"

// Enabled says whether frrgen writes ServiceBGPStatus objects, running on
// MetalLB's schemas or not, with the kind served or not. Standalone, auto
// is off: at 100 nodes and 5,000 services that is up to 500,000 objects,
// as with MetalLB's speakers, for users who did not ask for them.
func (m Mode) Enabled(onMetalLBSchemas, served bool) (bool, error) {
	switch {
	case m == Off || m == Auto && !onMetalLBSchemas:
		return false, nil
	case served:
		return true, nil
	case m == On:
		return false, fmt.Errorf("--service-bgp-status=true, but the CRD %s is not installed", CRD)
	default:
		return false, nil // an older MetalLB without the kind
	}
}
