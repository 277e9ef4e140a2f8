package controllers

import (
	frrv1beta1 "github.com/metallb/frr-k8s/api/v1beta1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	metallbv1beta2 "github.com/frrgen/frrgen/api/v1beta2"
)

// Scheme returns the kinds the controllers read and write: client-go's, the
// metallb.io ones and frr-k8s's.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(metallbv1beta1.AddToScheme(s))
	utilruntime.Must(metallbv1beta2.AddToScheme(s))
	utilruntime.Must(frrv1beta1.AddToScheme(s))
	return s
}
