package nodetruth

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDecide(t *testing.T) {
	peerA := Peer{Name: "a", Neighbor: "192.0.2.2", Nodes: []string{"n2", "n1", "n3"}}
	for _, tc := range []struct {
		name string
		in   Input
		want Report
	}{{
		name: "every node reports the session established",
		in: Input{Peers: []Peer{peerA}, Sessions: []Session{
			{Node: "n1", Neighbor: "192.0.2.2", BGP: "Established", BFD: "N/A"},
			{Node: "n2", Neighbor: "192.0.2.2", BGP: "Established", BFD: "up"},
			{Node: "n3", Neighbor: "192.0.2.2", BGP: "Established"},
		}},
		want: Report{Peers: []PeerReport{{Name: "a", Up: []string{"n1", "n2", "n3"}}}},
	}, {
		name: "one node down with BFD down, one lacks the neighbor, one reports nothing",
		in: Input{Peers: []Peer{peerA}, Sessions: []Session{
			{Node: "n1", Neighbor: "192.0.2.2", BGP: "Active", BFD: "down"},
			{Node: "n2", Neighbor: "192.0.2.9", BGP: "Established"},
		}},
		want: Report{Peers: []PeerReport{{Name: "a",
			Down:       []NodeSession{{Node: "n1", State: "Active, BFD down"}, {Node: "n2", State: MissingSession}},
			Unreported: []string{"n3"},
		}}},
	}, {
		name: "a session of the same neighbor in another VRF is another session",
		in: Input{Peers: []Peer{{Name: "v", Neighbor: "192.0.2.2", VRF: "red", Nodes: []string{"n1"}}}, Sessions: []Session{
			{Node: "n1", Neighbor: "192.0.2.2", BGP: "Established"},
		}},
		want: Report{Peers: []PeerReport{{Name: "v", Down: []NodeSession{{Node: "n1", State: MissingSession}}}}},
	}, {
		name: "sessions of nodes that do not run the peer do not count",
		in: Input{Peers: []Peer{{Name: "a", Neighbor: "192.0.2.2", Nodes: []string{"n1"}}}, Sessions: []Session{
			{Node: "n1", Neighbor: "192.0.2.2", BGP: "Idle"},
			{Node: "n9", Neighbor: "192.0.2.2", BGP: "Established"},
		}},
		want: Report{Peers: []PeerReport{{Name: "a", Down: []NodeSession{{Node: "n1", State: "Idle"}}}}},
	}, {
		name: "peers and nodes sorted, node results, a peer's nodes that failed to apply",
		in: Input{
			Peers: []Peer{{Name: "z"}, {Name: "b", Neighbor: "eth0", Nodes: []string{"n3", "n1", "n1", "n2"}}},
			Sessions: []Session{
				{Node: "n1", Neighbor: "eth0", BGP: "Established"},
			},
			NodeStates: []NodeState{
				{Node: "n3", Conversion: "success", Reload: "failure: line 3: % Unknown command"},
				{Node: "n1", Conversion: "success", Reload: "success"},
				{Node: "n2", Conversion: "failed: duplicate neighbor 192.0.2.2", Reload: "failure: older"},
				{Node: "n4"},
				{Node: "not-ours", Conversion: "some error"},
			},
			Configured: []string{"n1", "n2", "n3", "n4"},
		},
		want: Report{
			Peers: []PeerReport{{Name: "b", Up: []string{"n1"}, Unreported: []string{"n2", "n3"},
				NotApplied: []NodeReport{
					{Node: "n2", Failure: &Failure{Stage: Conversion, Message: "duplicate neighbor 192.0.2.2"}},
					{Node: "n3", Failure: &Failure{Stage: Reload, Message: "failure: line 3: % Unknown command"}},
				}}, {Name: "z"}},
			Nodes: []NodeReport{
				{Node: "n1"},
				{Node: "n2", Failure: &Failure{Stage: Conversion, Message: "duplicate neighbor 192.0.2.2"}},
				{Node: "n3", Failure: &Failure{Stage: Reload, Message: "failure: line 3: % Unknown command"}},
				{Node: "n4"},
			},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Decide(tc.in)); diff != "" {
				t.Errorf("Decide (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVerdictAndSummary(t *testing.T) {
	for _, tc := range []struct {
		name        string
		report      PeerReport
		wantVerdict Verdict
		wantSummary string
	}{{
		name:        "no node runs the peer",
		report:      PeerReport{},
		wantVerdict: AllEstablished,
		wantSummary: "0 of 0 session(s) established.",
	}, {
		name:        "all up",
		report:      PeerReport{Up: []string{"n1", "n2"}},
		wantVerdict: AllEstablished,
		wantSummary: "2 of 2 session(s) established.",
	}, {
		name:        "down wins over unreported",
		report:      PeerReport{Up: []string{"n1"}, Down: []NodeSession{{"n2", "Active"}, {"n3", "Idle"}, {"n4", "Connect"}}, Unreported: []string{"n5"}},
		wantVerdict: SomeDown,
		wantSummary: "1 of 5 session(s) established. Not established on n2: Active, n3: Idle and 1 more. No session state reported by n5 (is frr-k8s's status exporter running there?).",
	}, {
		name:        "unreported only",
		report:      PeerReport{Unreported: []string{"n1"}},
		wantVerdict: NotReported,
		wantSummary: "0 of 1 session(s) established. No session state reported by n1 (is frr-k8s's status exporter running there?).",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.report.Verdict(); got != tc.wantVerdict {
				t.Errorf("Verdict = %s, want %s", got, tc.wantVerdict)
			}
			if diff := cmp.Diff(tc.wantSummary, tc.report.Summary(2)); diff != "" {
				t.Errorf("Summary (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFailedStage(t *testing.T) {
	reload := NodeReport{Node: "a", Failure: &Failure{Stage: Reload}}
	conversion := NodeReport{Node: "b", Failure: &Failure{Stage: Conversion}}
	if got := (PeerReport{NotApplied: []NodeReport{reload, conversion}}).FailedStage(); got != Conversion {
		t.Errorf("FailedStage with a conversion failure = %s, want conversion", got)
	}
	if got := (PeerReport{NotApplied: []NodeReport{reload}}).FailedStage(); got != Reload {
		t.Errorf("FailedStage with reload failures only = %s, want reload", got)
	}
}

func TestChanges(t *testing.T) {
	up := Report{
		Peers: []PeerReport{{Name: "a", Up: []string{"n1", "n2"}}},
		Nodes: []NodeReport{{Node: "n1"}, {Node: "n2", Failure: &Failure{Stage: Reload, Message: "old"}}},
	}
	for _, tc := range []struct {
		name     string
		previous *Report
		current  Report
		want     News
	}{{
		name:    "first report: sessions down are not news, failures are",
		current: Report{Peers: []PeerReport{{Name: "a", Down: []NodeSession{{"n1", "Active"}}}}, Nodes: []NodeReport{{Node: "n1", Failure: &Failure{Stage: Conversion, Message: "bad"}}}},
		want:    News{NodeFailures: []NodeReport{{Node: "n1", Failure: &Failure{Stage: Conversion, Message: "bad"}}}},
	}, {
		name:     "nothing changed",
		previous: &up,
		current:  up,
	}, {
		name:     "an established session goes down, another was never up, a node stops reporting",
		previous: &up,
		current: Report{
			Peers: []PeerReport{
				{Name: "a", Down: []NodeSession{{"n1", "Idle"}, {"n3", "Active"}}, Unreported: []string{"n2"}},
			},
			Nodes: up.Nodes,
		},
		want: News{SessionsDown: []PeerSession{{Peer: "a", NodeSession: NodeSession{"n1", "Idle"}}}},
	}, {
		name:     "a node fails, another fails with a new error, a third recovers",
		previous: &up,
		current: Report{Peers: up.Peers, Nodes: []NodeReport{
			{Node: "n1", Failure: &Failure{Stage: Conversion, Message: "bad"}},
			{Node: "n2", Failure: &Failure{Stage: Reload, Message: "new"}},
		}},
		want: News{NodeFailures: []NodeReport{
			{Node: "n1", Failure: &Failure{Stage: Conversion, Message: "bad"}},
			{Node: "n2", Failure: &Failure{Stage: Reload, Message: "new"}},
		}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Changes(tc.previous, tc.current)); diff != "" {
				t.Errorf("Changes (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReloadError: frr-k8s's lastReloadResult is frr-reload.py's output (as
// the e2e suite got it for a hold time FRR refuses); the report keeps what
// FRR refused.
func TestReloadError(t *testing.T) {
	reloadOutput := "2026-12-01 12:37:42,762  INFO: Called via \"Namespace(input=None, reload=False, test=True)\"\n" +
		"2026-12-01 12:37:42,762  INFO: Loading Config object from file /etc/frr_reloader/frr.conf\n" +
		"2026-12-01 12:37:42,811 \x1b[91m  ERROR\x1b[0m: vtysh failed to process new configuration: vtysh (mark file) exited with status 2:\n" +
		"b\"line 85: % Unknown command:   neighbor 192.0.2.50 timers 30 65536\\n\\n\"\n" +
		"2026-12-01 12:37:42,993  INFO: \"frr version 8.4.4\" cannot be removed\n"
	got := Decide(Input{Configured: []string{"n"}, NodeStates: []NodeState{{Node: "n", Conversion: Success, Reload: reloadOutput}}})
	want := "2026-12-01 12:37:42,811   ERROR: vtysh failed to process new configuration: vtysh (mark file) exited with status 2:\n" +
		"b\"line 85: % Unknown command:   neighbor 192.0.2.50 timers 30 65536\\n\\n\""
	if diff := cmp.Diff(&Failure{Stage: Reload, Message: want}, got.Nodes[0].Failure); diff != "" {
		t.Errorf("reload failure (-want +got):\n%s", diff)
	}
	// Text without INFO lines is kept as it is.
	got = Decide(Input{Configured: []string{"n"}, NodeStates: []NodeState{{Node: "n", Reload: "failure"}}})
	if diff := cmp.Diff(&Failure{Stage: Reload, Message: "failure"}, got.Nodes[0].Failure); diff != "" {
		t.Errorf("plain failure (-want +got):\n%s", diff)
	}
}

func TestNeighborLabel(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.2":   "192.0.2.2",
		"2001:db8::2": "2001-0db8-0000-0000-0000-0000-0000-0002",
		"eth0":        "eth0",
	} {
		if got := NeighborLabel(in); got != want {
			t.Errorf("NeighborLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTruncate(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"line 1\n  line 2\t\n", 100, "line 1 line 2"},
		{"short", 5, "short"},
		{"abcdefghijklmnopqrstuvwxyz", 20, "abcde …(truncated)"},
		{long, 22, "ééé …(truncated)"}, // 7 bytes left: 3 whole characters,
	} {
		got := Truncate(tc.in, tc.max)
		if got != tc.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
		if len(got) > tc.max {
			t.Errorf("Truncate(%q, %d) is %d bytes", tc.in, tc.max, len(got))
		}
	}
}
