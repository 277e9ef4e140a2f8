package demo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDemoPrintsTheSeedRoutesAndLeavesNothingRunning runs the whole tour, as
// `make demo` does, against a real kube-apiserver and etcd.
func TestDemoPrintsTheSeedRoutesAndLeavesNothingRunning(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	var out bytes.Buffer
	if err := Run(ctx, &out, Options{Timeout: 2 * time.Minute}); err != nil {
		t.Fatalf("demo failed: %v\noutput:\n%s", err, out.String())
	}
	got := out.String()

	// The services have no address until frrgen allocates one from
	// first-pool (198.51.100.10/24 is the /24): the lowest free ones, by
	// namespace/name, as MetalLB's controller would.
	// The first seed example on a node the peer selects: the /32 with
	// localPref 100 and no-advertise, the covering /24 without attributes.
	for _, want := range []string{
		"service default/web  198.51.100.1     event IPAllocated: Assigned IP [\"198.51.100.1\"] from IPAddressPool first-pool\n",
		"service default/api  198.51.100.0     event IPAllocated: Assigned IP [\"198.51.100.0\"] from IPAddressPool first-pool\n",
		"node hosta\n  router AS64512 (default VRF)\n    neighbor 172.30.0.3 AS64512 port 180\n" +
			"      198.51.100.0/24  -              -\n" +
			"      198.51.100.1/32  localPref 100  communities 65535:65282\n",
		// hostb is selected by its hostname label; the ETP Local service
		// "api" has its only endpoint there, so only hostb announces it.
		"      198.51.100.0/32  localPref 100  communities 65535:65282\n",
		// hostc (rack backend) is selected by no peer.
		"node hostc\n  (no BGP router)\n",
		// Each Service says where it is announced and why not elsewhere.
		"default/api  frrgen.io/Announced=True reason=Announced\n  Announced from 1 of 3 speaker node(s). To peer example from hostb. " +
			"Not from hosta, hostc: externalTrafficPolicy is Local and no ready endpoint of the service runs on this node (noLocalEndpoints).\n",
		"default/web  frrgen.io/Announced=True reason=Announced\n  Announced from 2 of 3 speaker node(s). To peer example from hosta, hostb. " +
			"Not from hostc: no BGPPeer selects this node (noPeers).\n",
		"kind: FRRConfiguration\n",
		"condition  Valid=False reason=Invalid\n",
		`spec.communities[0]: unknown community alias "no-advertize"`,
		"FRRConfigurations: unchanged",
		"condition  Valid=True reason=Valid\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q\noutput:\n%s", want, got)
		}
	}
	if strings.Count(got, "198.51.100.0/32") != 1 {
		t.Errorf("198.51.100.0/32 (api: ETP Local, endpoint on hostb) must be announced by hostb only:\n%s", got)
	}

	if children := liveChildren(t); len(children) > 0 {
		t.Errorf("processes started by the demo are still running: %v", children)
	}
}

// liveChildren lists the processes whose parent is this test process and
// that have not exited (zombies excluded).
func liveChildren(t *testing.T) []string {
	t.Helper()
	self := strconv.Itoa(os.Getpid())
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var live []string
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // the process ended while we looked
		}
		// Format: pid (comm) state ppid ...; comm may contain spaces.
		s := string(data)
		end := strings.LastIndexByte(s, ')')
		if end < 0 {
			continue
		}
		fields := strings.Fields(s[end+1:])
		if len(fields) < 2 || fields[1] != self || fields[0] == "Z" {
			continue
		}
		live = append(live, s[:end+1])
	}
	return live
}
