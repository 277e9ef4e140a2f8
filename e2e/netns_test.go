package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// Every namespace and link the suite creates carries one of these prefixes;
// `make e2e-clean` and the leftover check look for exactly these.
const (
	nsPrefix   = "frrgen-e2e-"
	linkPrefix = "fge2e-"

	nodeName = "frrgen-e2e-node" // Kubernetes node, network namespace and FRR pathspace
	peerNS   = "frrgen-e2e-peer"

	nodeVeth = "fge2e-node"
	peerVeth = "fge2e-peer"

	nodeIPv4  = "192.0.2.1"
	peerAIPv4 = "192.0.2.2"
	peerBIPv4 = "192.0.2.3"
	nodeIPv6  = "2001:db8::1"
	peerAIPv6 = "2001:db8::2"
)

func run(argv ...string) (string, error) {
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

func runAll(cmds ...[]string) error {
	for _, c := range cmds {
		if _, err := run(c...); err != nil {
			return err
		}
	}
	return nil
}

// setupNetwork creates the node and peer namespaces joined by a veth pair.
// Addresses come from the documentation ranges and exist only inside them.
func setupNetwork() error {
	return runAll(
		[]string{"ip", "netns", "add", nodeName},
		[]string{"ip", "netns", "add", peerNS},
		[]string{"ip", "link", "add", nodeVeth, "type", "veth", "peer", "name", peerVeth},
		[]string{"ip", "link", "set", nodeVeth, "netns", nodeName},
		[]string{"ip", "link", "set", peerVeth, "netns", peerNS},
		[]string{"ip", "-n", nodeName, "link", "set", "lo", "up"},
		[]string{"ip", "-n", peerNS, "link", "set", "lo", "up"},
		[]string{"ip", "-n", nodeName, "addr", "add", nodeIPv4 + "/24", "dev", nodeVeth},
		[]string{"ip", "-n", peerNS, "addr", "add", peerAIPv4 + "/24", "dev", peerVeth},
		[]string{"ip", "-n", peerNS, "addr", "add", peerBIPv4 + "/24", "dev", peerVeth},
		// nodad: usable at once, no duplicate address detection delay.
		[]string{"ip", "-n", nodeName, "addr", "add", nodeIPv6 + "/64", "dev", nodeVeth, "nodad"},
		[]string{"ip", "-n", peerNS, "addr", "add", peerAIPv6 + "/64", "dev", peerVeth, "nodad"},
		[]string{"ip", "-n", nodeName, "link", "set", nodeVeth, "up"},
		[]string{"ip", "-n", peerNS, "link", "set", peerVeth, "up"},
	)
}

// teardownNetwork deletes what setupNetwork created; deleting a namespace
// deletes the veth end inside it, and with it the pair.
func teardownNetwork() []error {
	var errs []error
	for _, ns := range []string{nodeName, peerNS} {
		if _, err := os.Stat("/var/run/netns/" + ns); err == nil {
			if _, err := run("ip", "netns", "del", ns); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if _, err := run("ip", "link", "show", nodeVeth); err == nil {
		if _, err := run("ip", "link", "del", nodeVeth); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// leftovers lists namespaces and links of ours that still exist.
func leftovers() []string {
	var found []string
	if out, err := run("ip", "netns", "list"); err == nil {
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(f[0], nsPrefix) {
				found = append(found, "netns "+f[0])
			}
		}
	}
	if out, err := run("ip", "-o", "link", "show"); err == nil {
		for _, l := range strings.Split(out, "\n") {
			f := strings.Fields(l)
			if len(f) < 2 {
				continue
			}
			name := strings.SplitN(strings.TrimSuffix(f[1], ":"), "@", 2)[0]
			if strings.HasPrefix(name, linkPrefix) {
				found = append(found, "link "+name)
			}
		}
	}
	return found
}

// inNetns runs f on a goroutine whose OS thread has joined network namespace
// ns. The thread is never returned to the pool: the goroutine stays locked,
// and f is expected to block for the life of the suite (GoBGP's Serve loop,
// which creates its listening sockets on this thread). Sockets keep the
// namespace they were created in, whichever thread later uses them.
func inNetns(ns string, f func()) error {
	errCh := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Never unlocked: the thread exits with the goroutine.
		fd, err := unix.Open("/var/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errCh <- err
			return
		}
		err = unix.Setns(fd, unix.CLONE_NEWNET)
		unix.Close(fd)
		if err != nil {
			errCh <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		errCh <- nil
		f()
	}()
	return <-errCh
}
