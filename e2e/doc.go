// Package e2e holds frrgen's end-to-end suite: a real kube-apiserver, the
// frrgen controller, the frr-k8s node daemon, FRR inside a network namespace
// and a GoBGP peer inside another one.
package e2e
