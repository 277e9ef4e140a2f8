package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"sync"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/apiutil"
	gobgplog "github.com/osrg/gobgp/v3/pkg/log"
	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
	"github.com/osrg/gobgp/v3/pkg/server"
)

// bgpPeer is a GoBGP server embedded in the suite whose sockets live in the
// peer namespace. It only listens (passive mode), so every connection it
// makes is accepted on a socket created inside that namespace.
type bgpPeer struct {
	addr string // IPv4 listen address and router id, inside peerNS
	asn  uint32
	s    *server.BgpServer

	mu        sync.Mutex
	announced map[string]bool // prefixes announced by announce, for withdrawAll
}

var (
	v4Unicast = &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}
	v6Unicast = &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST}
)

// startPeer starts a GoBGP server listening on addr (IPv4, also its router
// id) and on extraAddrs, with the node as a neighbor at each of nodeAddrs.
func startPeer(addr string, extraAddrs []string, asn, nodeASN uint32, nodeAddrs ...string) (*bgpPeer, error) {
	logger := gobgplog.NewDefaultLogger()
	logger.SetLevel(gobgplog.ErrorLevel)
	s := server.NewBgpServer(server.LoggerOption(logger))
	if err := inNetns(peerNS, s.Serve); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.StartBgp(ctx, &api.StartBgpRequest{Global: &api.Global{
		Asn:             asn,
		RouterId:        addr,
		ListenPort:      179,
		ListenAddresses: append([]string{addr}, extraAddrs...),
	}})
	if err != nil {
		return nil, fmt.Errorf("gobgp %s: %w", addr, err)
	}
	for _, node := range nodeAddrs {
		local := addr
		if netip.MustParseAddr(node).Is6() && len(extraAddrs) > 0 {
			local = extraAddrs[0]
		}
		err = s.AddPeer(ctx, &api.AddPeerRequest{Peer: &api.Peer{
			Conf:      &api.PeerConf{NeighborAddress: node, PeerAsn: nodeASN},
			Transport: &api.Transport{PassiveMode: true, LocalAddress: local},
			// After a session drops (a spec removed its BGPPeer), accept the next
			// connection after 1 s instead of GoBGP's default 30 s idle hold.
			Timers: &api.Timers{Config: &api.TimersConfig{IdleHoldTimeAfterReset: 1}},
			AfiSafis: []*api.AfiSafi{
				{Config: &api.AfiSafiConfig{Family: v4Unicast, Enabled: true}},
				{Config: &api.AfiSafiConfig{Family: v6Unicast, Enabled: true}},
			},
		}})
		if err != nil {
			return nil, fmt.Errorf("gobgp %s add neighbor %s: %w", addr, node, err)
		}
	}
	return &bgpPeer{addr: addr, asn: asn, s: s, announced: map[string]bool{}}, nil
}

func (p *bgpPeer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = p.s.StopBgp(ctx, &api.StopBgpRequest{})
}

// receivedRoute is a path the peer received from the node, with the
// attributes the specs look at.
type receivedRoute struct {
	Prefix      string
	NextHop     string
	LocalPref   *uint32 // nil when the attribute is absent
	Communities []string
	Large       []string
	Paths       int // paths held for this prefix (one per prefix without add-path)
}

func (r receivedRoute) String() string {
	lp := "none"
	if r.LocalPref != nil {
		lp = fmt.Sprint(*r.LocalPref)
	}
	return fmt.Sprintf("%s nh=%s localpref=%s communities=%v large=%v", r.Prefix, r.NextHop, lp, r.Communities, r.Large)
}

// routes returns what the peer holds in its Adj-RIB-In from the node's IPv4
// session, keyed by prefix. It fails while the session is not established.
func (p *bgpPeer) routes() (map[string]receivedRoute, error) {
	return p.routesFrom(nodeIPv4)
}

// routesFrom is routes for the session with the node's address node.
func (p *bgpPeer) routesFrom(node string) (map[string]receivedRoute, error) {
	if n, err := p.neighborAt(node); err != nil {
		return nil, err
	} else if st := n.State.SessionState; st != api.PeerState_ESTABLISHED {
		return nil, fmt.Errorf("session %s<->%s is %s", p.addr, node, st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out := map[string]receivedRoute{}
	for _, fam := range []*api.Family{v4Unicast, v6Unicast} {
		var decodeErr error
		err := p.s.ListPath(ctx, &api.ListPathRequest{TableType: api.TableType_ADJ_IN, Name: node, Family: fam},
			func(d *api.Destination) {
				for _, path := range d.Paths {
					r, err := decodePath(d.Prefix, path)
					if err != nil {
						decodeErr = err
						continue
					}
					r.Paths = len(d.Paths)
					out[r.Prefix] = r
				}
			})
		if err != nil {
			return nil, err
		}
		if decodeErr != nil {
			return nil, decodeErr
		}
	}
	return out, nil
}

func decodePath(prefix string, path *api.Path) (receivedRoute, error) {
	r := receivedRoute{Prefix: prefix}
	attrs, err := apiutil.UnmarshalPathAttributes(path.Pattrs)
	if err != nil {
		return r, err
	}
	for _, a := range attrs {
		switch a := a.(type) {
		case *bgp.PathAttributeNextHop:
			r.NextHop = a.Value.String()
		case *bgp.PathAttributeMpReachNLRI:
			r.NextHop = a.Nexthop.String()
		case *bgp.PathAttributeLocalPref:
			v := a.Value
			r.LocalPref = &v
		case *bgp.PathAttributeCommunities:
			for _, c := range a.Value {
				r.Communities = append(r.Communities, fmt.Sprintf("%d:%d", c>>16, c&0xffff))
			}
		case *bgp.PathAttributeLargeCommunities:
			for _, c := range a.Values {
				r.Large = append(r.Large, fmt.Sprintf("%d:%d:%d", c.ASN, c.LocalData1, c.LocalData2))
			}
		}
	}
	sort.Strings(r.Communities)
	sort.Strings(r.Large)
	return r, nil
}

func (p *bgpPeer) neighbor() (*api.Peer, error) {
	return p.neighborAt(nodeIPv4)
}

func (p *bgpPeer) neighborAt(node string) (*api.Peer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var found *api.Peer
	err := p.s.ListPeer(ctx, &api.ListPeerRequest{Address: node}, func(peer *api.Peer) { found = peer })
	if err != nil {
		return nil, err
	}
	if found == nil || found.State == nil {
		return nil, fmt.Errorf("gobgp %s has no neighbor %s", p.addr, node)
	}
	return found, nil
}

func (p *bgpPeer) sessionState() (api.PeerState_SessionState, error) {
	n, err := p.neighbor()
	if err != nil {
		return api.PeerState_UNKNOWN, err
	}
	return n.State.SessionState, nil
}

// remoteCapabilities decodes the capabilities the node sent in its OPEN.
func (p *bgpPeer) remoteCapabilities() ([]bgp.ParameterCapabilityInterface, error) {
	n, err := p.neighbor()
	if err != nil {
		return nil, err
	}
	if n.State.SessionState != api.PeerState_ESTABLISHED {
		return nil, fmt.Errorf("session %s<->%s is %s", p.addr, nodeIPv4, n.State.SessionState)
	}
	return apiutil.UnmarshalCapabilities(n.State.RemoteCap)
}

// announce makes the peer advertise prefix to the node with itself as next hop.
func (p *bgpPeer) announce(prefix string) error {
	p.mu.Lock()
	p.announced[prefix] = true
	p.mu.Unlock()
	return p.modifyPath(prefix, false)
}

// withdrawAll withdraws every prefix announce announced.
func (p *bgpPeer) withdrawAll() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for prefix := range p.announced {
		if err := p.modifyPath(prefix, true); err != nil {
			return err
		}
		delete(p.announced, prefix)
	}
	return nil
}

func (p *bgpPeer) modifyPath(prefix string, withdraw bool) error {
	pfx, err := netip.ParsePrefix(prefix)
	if err != nil {
		return err
	}
	nlri := bgp.NewIPAddrPrefix(uint8(pfx.Bits()), pfx.Addr().String())
	attrs := []bgp.PathAttributeInterface{
		bgp.NewPathAttributeOrigin(bgp.BGP_ORIGIN_ATTR_TYPE_IGP),
		bgp.NewPathAttributeNextHop(p.addr),
	}
	path, err := apiutil.NewPath(nlri, withdraw, attrs, time.Now())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if withdraw {
		return p.s.DeletePath(ctx, &api.DeletePathRequest{TableType: api.TableType_GLOBAL, Family: v4Unicast, Path: path})
	}
	_, err = p.s.AddPath(ctx, &api.AddPathRequest{TableType: api.TableType_GLOBAL, Path: path})
	return err
}
