package controllers

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	metallbv1beta1 "github.com/frrgen/frrgen/api/v1beta1"
	"github.com/frrgen/frrgen/internal/servicestatus"
	"github.com/frrgen/frrgen/internal/translate"
)

// laggingCache lists ServiceBGPStatuses from a snapshot taken when told
// (a cache that has not seen the latest writes), and counts writes.
type laggingCache struct {
	client.Client
	snapshot *metallbv1beta1.ServiceBGPStatusList
	writes   int
	// created is the last object created, as the create returned it.
	created *metallbv1beta1.ServiceBGPStatus
}

func (c *laggingCache) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if l, ok := list.(*metallbv1beta1.ServiceBGPStatusList); ok {
		c.snapshot.DeepCopyInto(l)
		return nil
	}
	return c.Client.List(ctx, list, opts...)
}

// catchUp makes the snapshot what the apiserver has now.
func (c *laggingCache) catchUp(t *testing.T) {
	t.Helper()
	c.snapshot = &metallbv1beta1.ServiceBGPStatusList{}
	if err := c.Client.List(context.Background(), c.snapshot); err != nil {
		t.Fatal(err)
	}
}

func (c *laggingCache) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	c.writes++
	err := c.Client.Create(ctx, obj, opts...)
	if s, ok := obj.(*metallbv1beta1.ServiceBGPStatus); ok && err == nil {
		c.created = s.DeepCopy()
	}
	return err
}

func (c *laggingCache) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	c.writes++
	return c.Client.Delete(ctx, obj, opts...)
}

func (c *laggingCache) Status() client.SubResourceWriter {
	return countedStatus{SubResourceWriter: c.Client.Status(), writes: &c.writes}
}

type countedStatus struct {
	client.SubResourceWriter
	writes *int
}

func (s countedStatus) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	*s.writes++
	return s.SubResourceWriter.Patch(ctx, obj, patch, opts...)
}

// A pass on a cache that does not show frrgen's latest writes yet writes
// nothing again: not after a create (before or after its status write is
// cached), a status change or a delete.
func TestServiceBGPStatusWriterDoesNotRepeatWritesTheCacheLagsBehind(t *testing.T) {
	ctx := context.Background()
	api := fake.NewClientBuilder().WithScheme(Scheme()).WithStatusSubresource(&metallbv1beta1.ServiceBGPStatus{}).Build()
	cache := &laggingCache{Client: api, snapshot: &metallbv1beta1.ServiceBGPStatusList{}}
	writer := &bgpStatusWriter{client: cache, namespace: "metallb-system"}
	web := types.NamespacedName{Namespace: "default", Name: "web"}
	peers := []translate.PeerSummary{{Name: "tor"}, {Name: "spine"}}
	pass := func(announcedTo ...string) int {
		t.Helper()
		before := cache.writes
		p, err := writer.begin(ctx, peers)
		if err != nil {
			t.Fatal(err)
		}
		status := servicestatus.Status{Groups: []servicestatus.Group{{Kind: servicestatus.NotAnnounced, Nodes: []string{"a"}}}}
		if len(announcedTo) > 0 {
			status = servicestatus.Status{Announced: true, Groups: []servicestatus.Group{{Kind: servicestatus.Announced, Peers: announcedTo, Nodes: []string{"a"}}}}
		}
		p.service(web, status)
		if err := p.finish(ctx); err != nil {
			t.Fatal(err)
		}
		return cache.writes - before
	}
	stored := func() []string {
		t.Helper()
		var list metallbv1beta1.ServiceBGPStatusList
		if err := api.List(ctx, &list); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, o := range list.Items {
			out = append(out, o.Status.Node+":"+strings.Join(o.Status.Peers, ","))
		}
		return out
	}

	if n := pass("tor"); n != 2 {
		t.Fatalf("first pass: %d writes, want a create and a status write", n)
	}
	if n := pass("tor"); n != 0 {
		t.Errorf("cache without the new object: %d writes, want 0", n)
	}
	// The cache shows the object as created, before its status write.
	created := *cache.created
	created.Status = metallbv1beta1.ServiceBGPStatusStatus{} // as the apiserver stores it
	cache.snapshot.Items = []metallbv1beta1.ServiceBGPStatus{created}
	if n := pass("tor"); n != 0 {
		t.Errorf("cache with the object before its status: %d writes, want 0", n)
	}
	cache.catchUp(t)
	if n := pass("tor"); n != 0 || writer.pending.Len() != 0 {
		t.Errorf("cache caught up: %d writes and %d pending, want none", n, writer.pending.Len())
	}
	if n := pass("spine", "tor"); n != 1 {
		t.Errorf("a new peer: %d writes, want 1", n)
	}
	if n := pass("spine", "tor"); n != 0 {
		t.Errorf("cache without the status write: %d writes, want 0", n)
	}
	if got := stored(); len(got) != 1 || got[0] != "a:spine,tor" {
		t.Errorf("stored %v, want a:spine,tor", got)
	}
	cache.catchUp(t)
	if n := pass(); n != 1 {
		t.Errorf("withdrawn: %d writes, want a delete", n)
	}
	if n := pass(); n != 0 {
		t.Errorf("cache still showing the deleted object: %d writes, want 0", n)
	}
	if got := stored(); len(got) != 0 {
		t.Errorf("stored %v, want none", got)
	}
}
