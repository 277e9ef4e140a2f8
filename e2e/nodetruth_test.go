package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	api "github.com/osrg/gobgp/v3/api"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
)

// statusExporterPod is the Pod frr-k8s's status exporter belongs to: it
// reads it at start and makes it the owner of its BGPSessionStates. Nothing
// runs it (there is no kubelet); it only has to exist.
const statusExporterPod = "frr-k8s-" + nodeName

// startStatusExporter runs frr-k8s's status exporter (bin/frr-k8s-status),
// which writes a BGPSessionState per neighbor of the node's FRR. It runs
// /usr/bin/vtysh without a pathspace, so it gets a private mount namespace
// in which /var/run/frr is the node's pathspace directory: its vtysh talks
// to the node's daemons, and nothing else on the machine sees the mount.
func startStatusExporter(kubeconfig string) error {
	ctx := context.Background()
	// No controller-manager creates the namespace's default ServiceAccount,
	// which Pod admission wants.
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: frrK8sNS, Name: "default"}}
	if err := k8s.Create(ctx, sa); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: frrK8sNS, Name: statusExporterPod},
		Spec: corev1.PodSpec{NodeName: nodeName, AutomountServiceAccountToken: new(bool),
			Containers: []corev1.Container{{Name: "frr-status", Image: "frr-k8s"}}},
	}
	if err := k8s.Create(ctx, pod); err != nil {
		return err
	}
	_, err := startProc("frr-k8s-status", []string{"KUBECONFIG=" + kubeconfig},
		withPrivateMount(frrRunDir(nodeName), frrRunDirRoot, filepath.Join(binDir, "frr-k8s-status"),
			"--node-name", nodeName, "--namespace", frrK8sNS, "--pod-name", statusExporterPod,
			// frr-k8s's default is 2m; the specs watch sessions change.
			"--poll-interval", "2s", "--log-level", "debug")...)
	return err
}

// withPrivateMount returns the command line that runs argv in a mount
// namespace of its own where source is bind-mounted on target: frr-k8s's
// programs use fixed paths (/usr/bin/vtysh's /var/run/frr,
// /etc/frr_reloader), and the rest of the machine must not see the mounts.
func withPrivateMount(source, target string, argv ...string) []string {
	return append([]string{"unshare", "--mount", "--propagation", "private",
		"sh", "-c", `mount --bind "$0" "$1" && shift && exec "$@"`, source, target}, argv...)
}

// frrK8sReloaderDir is where the frr-k8s daemon reads its reloader's result
// (.status, last-error, running-config: the volume it shares with the
// reloader in its DaemonSet).
const frrK8sReloaderDir = "/etc/frr_reloader"

// reloaderMountMarker exists while frrK8sReloaderDir is a mount point the
// suite created; `make e2e-clean` removes both.
func reloaderMountMarker() string { return filepath.Join(workDir, "created-etc-frr_reloader") }

// ownsReloaderMountPoint tells, before the work directory is cleared,
// whether frrK8sReloaderDir is the suite's to create and remove.
func ownsReloaderMountPoint() bool {
	_, err := os.Stat(frrK8sReloaderDir)
	_, markerErr := os.Stat(reloaderMountMarker())
	return errors.Is(err, os.ErrNotExist) || markerErr == nil
}

func createReloaderMountPoint() error {
	if !createdReloaderDir {
		return nil // it was there: used as a mount point only
	}
	if err := os.MkdirAll(frrK8sReloaderDir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(reloaderMountMarker(), []byte(frrK8sReloaderDir+"\n"), 0o644)
}

// freeLocalPort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freeLocalPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// frrgenMetric reads one sample of frrgen's metrics endpoint (plain HTTP on
// 127.0.0.1 in this suite): the value of the line name{labels}, -1 if none.
func frrgenMetric(name string, labels map[string]string) (float64, error) {
	if frrgenMetricsAddr == "" {
		return 0, fmt.Errorf("frrgen's metrics are off (its --help has no --metrics-bind-address)")
	}
	resp, err := http.Get("http://" + frrgenMetricsAddr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
next:
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, name+"{") {
			continue
		}
		for k, v := range labels {
			if !strings.Contains(line, k+`="`+v+`"`) {
				continue next
			}
		}
		return strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64)
	}
	return -1, nil
}

func (p *bgpPeer) setNeighborEnabled(node string, enabled bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if enabled {
		return p.s.EnablePeer(ctx, &api.EnablePeerRequest{Address: node})
	}
	return p.s.DisablePeer(ctx, &api.DisablePeerRequest{Address: node, Communication: "e2e: the peer goes away"})
}

func sessionEvents(peer string) ([]string, error) {
	var list eventsv1.EventList
	if err := k8s.List(context.Background(), &list, client.InNamespace(metallbNS)); err != nil {
		return nil, err
	}
	var notes []string
	for _, e := range list.Items {
		if e.Regarding.Kind == "BGPPeer" && e.Regarding.Name == peer && e.Reason == metallbv1beta1.ReasonSessionDown {
			notes = append(notes, e.Note)
		}
	}
	return notes, nil
}

var _ = Describe("What the node reports", Label("frrgen"), func() {
	BeforeEach(func() {
		Expect(frrgenAvailable).To(BeTrue(), "bin/frrgen has no controller subcommand")
		Expect(frrgenProc.Exited()).To(BeFalse(), "the frrgen controller exited; see %s", frrgenProc.logPath)
	})

	It("a BGPPeer counts its established session, shows it down while the peer is away (condition, Warning Event, metric), and up again", func() {
		ctx := context.Background()
		apply(bgpPeerA)
		peer := &metallbv1beta2.BGPPeer{ObjectMeta: metav1.ObjectMeta{Namespace: metallbNS, Name: "peer-a"}}
		sessions := func() (*metav1.Condition, error) {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(peer), peer); err != nil {
				return nil, err
			}
			for _, c := range peer.Status.Conditions {
				if c.Type == metallbv1beta1.ConditionSessionsEstablished {
					return &c, nil
				}
			}
			return nil, nil
		}
		sessionMetric := func(state string) func() (float64, error) {
			return func() (float64, error) {
				return frrgenMetric("frrgen_bgp_sessions", map[string]string{"peer": "peer-a", "state": state})
			}
		}

		By("the session comes up: frr-k8s's exporter writes BGPSessionState, the BGPPeer shows 1 of 1")
		Eventually(func() ([]string, error) {
			var list frrv1beta1.BGPSessionStateList
			err := k8s.List(ctx, &list, client.InNamespace(frrK8sNS))
			var states []string
			for _, s := range list.Items {
				states = append(states, s.Status.Node+"/"+s.Status.Peer+"/"+s.Status.BGPStatus)
			}
			return states, err
		}).Should(ContainElement(nodeName + "/" + peerAIPv4 + "/Established"))
		Eventually(sessions).Should(And(
			HaveField("Status", metav1.ConditionTrue),
			HaveField("Message", "1 of 1 session(s) established."),
		))
		Expect(peer.Status.EstablishedSessions).To(BeEquivalentTo(1))
		Eventually(sessionMetric("established")).Should(BeEquivalentTo(1))

		By("the peer goes away")
		Expect(peerA.setNeighborEnabled(nodeIPv4, false)).To(Succeed())
		// Enabled again whatever happens, for the next specs.
		defer func() { Expect(peerA.setNeighborEnabled(nodeIPv4, true)).To(Succeed()) }()
		Eventually(sessions).Should(And(
			HaveField("Status", metav1.ConditionFalse),
			HaveField("Reason", metallbv1beta1.ReasonSessionsDown),
			HaveField("Message", HavePrefix("0 of 1 session(s) established. Not established on "+nodeName+": ")),
		))
		Expect(peer.Status.EstablishedSessions).To(BeEquivalentTo(0))
		Eventually(sessionEvents).WithArguments("peer-a").Should(ContainElement(
			HavePrefix("The session on node " + nodeName + " is no longer established: ")))
		Eventually(sessionMetric("down")).Should(BeEquivalentTo(1))
		Expect(sessionMetric("established")()).To(BeEquivalentTo(0))
		fmt.Fprintf(GinkgoWriter, "while the peer was away: %v\n", peer.Status.Conditions)

		By("the peer comes back")
		Expect(peerA.setNeighborEnabled(nodeIPv4, true)).To(Succeed())
		Eventually(sessions).WithTimeout(90 * time.Second).Should(HaveField("Status", metav1.ConditionTrue))
		Expect(peer.Status.EstablishedSessions).To(BeEquivalentTo(1))
		Eventually(sessionMetric("established")).Should(BeEquivalentTo(1))
	})

	It("a configuration FRR refuses: the Node gets a ReloadFailed Warning Event with FRR's text, the BGPPeer Applied=False, the metric 1; fixed, all clear", func() {
		ctx := context.Background()
		apply(bgpPeerA)
		peer := &metallbv1beta2.BGPPeer{ObjectMeta: metav1.ObjectMeta{Namespace: metallbNS, Name: "peer-a"}}
		applied := func() (*metav1.Condition, error) {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(peer), peer); err != nil {
				return nil, err
			}
			for _, c := range peer.Status.Conditions {
				if c.Type == metallbv1beta1.ConditionApplied {
					return &c, nil
				}
			}
			return nil, nil
		}
		reloadFailed := func() (float64, error) {
			return frrgenMetric("frrgen_node_reload_failed", map[string]string{"node": nodeName})
		}
		reloadResult := func() (string, error) {
			var state frrv1beta1.FRRNodeState
			err := k8s.Get(ctx, client.ObjectKey{Name: nodeName}, &state)
			return state.Status.LastReloadResult, err
		}
		// frr-k8s polls its reloader's result every 30 s.
		const poll = 90 * time.Second
		Eventually(reloadResult).WithTimeout(poll).Should(Equal("success"))
		Eventually(applied).Should(HaveField("Status", metav1.ConditionTrue))
		Eventually(reloadFailed).Should(BeEquivalentTo(0))

		By("a user FRRConfiguration with a hold time FRR does not take (frr-k8s converts it)")
		apply(`apiVersion: frrk8s.metallb.io/v1beta1
kind: FRRConfiguration
metadata:
  name: too-long-hold
  namespace: frr-k8s-system
spec:
  nodeSelector:
    matchLabels:
      kubernetes.io/hostname: ` + nodeName + `
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - address: 192.0.2.50
        asn: 64550
        holdTime: 65536s
        keepaliveTime: 30s
`)
		Eventually(reloadResult).WithTimeout(poll).ShouldNot(Or(Equal("success"), BeEmpty()))
		frrText, _ := reloadResult()
		fmt.Fprintf(GinkgoWriter, "lastReloadResult: %s\n", frrText)
		Eventually(applied).Should(And(
			HaveField("Status", metav1.ConditionFalse),
			HaveField("Reason", metallbv1beta1.ReasonReloadFailed),
			HaveField("Message", And(ContainSubstring(nodeName+": reload failed: "), ContainSubstring("Unknown command: neighbor 192.0.2.50 timers 30 65536"))),
		))
		Eventually(reloadFailed).Should(BeEquivalentTo(1))
		Eventually(func() ([]string, error) {
			var list eventsv1.EventList
			err := k8s.List(ctx, &list, client.InNamespace("default"))
			var notes []string
			for _, e := range list.Items {
				if e.Regarding.Kind == "Node" && e.Regarding.Name == nodeName && e.Reason == metallbv1beta1.ReasonReloadFailed {
					notes = append(notes, e.Note)
				}
			}
			return notes, err
		}).Should(ContainElement(And(HavePrefix("frr-k8s on node "+nodeName+": reload failed: "), ContainSubstring("65536"))))

		By("deleting it")
		deleteAndWait(&frrv1beta1.FRRConfiguration{ObjectMeta: metav1.ObjectMeta{Namespace: frrK8sNS, Name: "too-long-hold"}})
		Eventually(reloadResult).WithTimeout(poll).Should(Equal("success"))
		Eventually(applied).Should(HaveField("Status", metav1.ConditionTrue))
		Eventually(reloadFailed).Should(BeEquivalentTo(0))
	})
})
