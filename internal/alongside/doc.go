// Package alongside holds the envtest suite of frrgen alongside MetalLB:
// MetalLB v0.15.2's CRDs (not frrgen's) and its real controller, which
// assigns the Service addresses, with frrgen's manager running as its
// ServiceAccount under config/alongside-metallb's RBAC and admission policy.
// It has no code outside its tests.
package alongside
