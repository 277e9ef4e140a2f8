package main

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	"github.com/frrgen/frrgen/internal/allocate"
	"github.com/frrgen/frrgen/internal/manifest"
)

// registerAllocateFlag is the --allocate flag of `frrgen controller` and
// `frrgen render`: one name and one meaning, so that render with the
// controller's flags shows what the controller does.
func registerAllocateFlag(fl *pflag.FlagSet, allocate *bool) {
	fl.BoolVar(allocate, "allocate", true, "assign LoadBalancer Service addresses from the IPAddressPools, as MetalLB's controller does (turn off when MetalLB's controller runs)")
}

// allocateInput gives the input's Services the addresses the controller's
// allocator would, starting as the controller does: from what their
// statuses hold (allocate.Rebuild), then Assign in allocate's order. It
// rewrites the statuses that change and says on stderr what it did.
func allocateInput(objs *manifest.Objects, class string, stderr io.Writer) {
	pools := make([]*metallbv1beta1.IPAddressPool, len(objs.Pools))
	for i := range objs.Pools {
		pools[i] = &objs.Pools[i]
	}
	allocPools, err := allocate.PoolsFrom(pools, objs.Namespaces)
	if err != nil {
		// The controller does not allocate either until the pools are fixed;
		// translate reports the pool itself.
		fmt.Fprintf(stderr, "allocation: none, the IPAddressPools are not usable: %v\n", err)
		return
	}
	svcs := make([]*corev1.Service, len(objs.Services))
	for i := range objs.Services {
		svcs[i] = &objs.Services[i]
	}
	a := allocate.Rebuild(allocPools, class, svcs)
	allocate.SortForAssignment(svcs)
	for _, svc := range svcs {
		got, err := a.Assign(svc)
		if !allocate.Handles(svc, class) {
			continue // its status is someone else's
		}
		key := allocate.Key(svc)
		lost := ""
		if removed := dropped(statusIPs(svc), got.IPs); len(removed) > 0 {
			lost = " (its status held " + strings.Join(removed, ",") + ", which it may not keep)"
		}
		switch {
		case err != nil:
			fmt.Fprintf(stderr, "allocation failed for %s: %s: %v%s\n", key, errorReason(err), err, lost)
		case got.Allocated:
			fmt.Fprintf(stderr, "allocated %s to %s from pool %s%s\n", joinAddrs(got.IPs), key, got.Pool, lost)
		case lost != "":
			fmt.Fprintf(stderr, "allocation: %s keeps %s%s\n", key, joinAddrs(got.IPs), lost)
		}
		if !allocate.SameIngress(svc.Status.LoadBalancer.Ingress, got.Ingress()) {
			svc.Status.LoadBalancer.Ingress = got.Ingress()
		}
	}
}

func errorReason(err error) string {
	if e := (*allocate.Error)(nil); errors.As(err, &e) {
		return string(e.Reason)
	}
	return "error"
}

func statusIPs(svc *corev1.Service) []string {
	var out []string
	for _, ing := range svc.Status.LoadBalancer.Ingress {
		if ing.IP != "" {
			out = append(out, ing.IP)
		}
	}
	return out
}

// dropped lists the status addresses the assignment does not keep.
func dropped(status []string, kept []netip.Addr) []string {
	var out []string
	for _, s := range status {
		ip, err := netip.ParseAddr(s)
		if err != nil || !slices.Contains(kept, ip) {
			out = append(out, s)
		}
	}
	return out
}

func joinAddrs(ips []netip.Addr) string {
	parts := make([]string, len(ips))
	for i, ip := range ips {
		parts[i] = ip.String()
	}
	return strings.Join(parts, ",")
}
