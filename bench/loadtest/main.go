// Command loadtest drives one orgsso ACS over HTTP on loopback with concurrent
// clients posting valid responses and replays of them, for a bounded time, and
// reports throughput, latency percentiles, errors and replays accepted (both
// must be 0).
//
//	go run ./bench/loadtest -clients 8 -responses 3000 -replay 0.25
//
// Responses are signed before the clock starts (signing is the IdP's cost, not
// ours). Every valid response must be accepted exactly once; every replay must
// be refused with ErrReplay.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
	"github.com/orgsso/orgsso/store/memory"
)

func main() {
	clients := flag.Int("clients", 8, "concurrent HTTP clients")
	n := flag.Int("responses", 2000, "distinct valid responses to post")
	replayShare := flag.Float64("replay", 0.25, "share of posts that are replays of an accepted response")
	flag.Parse()
	if err := run(*clients, *n, *replayShare); err != nil {
		log.Fatal(err)
	}
}

type post struct {
	body   string
	cookie *http.Cookie // the sign-in's browser-binding cookie
	replay bool
}

func run(clients, n int, replayShare float64) error {
	ctx := context.Background()
	store := memory.New()
	sessions := session.NewManager(store)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	var replaysRefused, otherErrs atomic.Int64
	svc, err := sso.New(sso.Config{BaseURL: base, Store: store, Sessions: sessions})
	if err != nil {
		return err
	}
	idp, err := ssotest.New(ssotest.Config{})
	if err != nil {
		return err
	}
	org := &sso.Organization{ID: "org-1", SSOName: "acme", OwnerID: "u-owner", Enabled: true, IdP: idp.IdPConfig(),
		RoleMapping: rolemap.Config{Enabled: true, Mappings: []rolemap.Mapping{{IdPRole: "Engineering", OrgRole: rolemap.RoleMember}}}}
	if err := store.SaveOrganization(ctx, org); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /sso/{name}/acs", func(w http.ResponseWriter, r *http.Request) {
		res, err := svc.HandleACS(r.Context(), r.PathValue("name"), r)
		switch {
		case err == nil:
			http.SetCookie(w, svc.SessionCookie(res))
			w.WriteHeader(http.StatusNoContent)
		case errors.Is(err, sso.ErrReplay):
			replaysRefused.Add(1)
			w.WriteHeader(http.StatusConflict)
		default:
			otherErrs.Add(1)
			http.Error(w, err.Error(), http.StatusForbidden)
		}
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()

	// Sign the responses up front, in parallel.
	fmt.Fprintf(os.Stderr, "signing %d responses…\n", n)
	sp := svc.Details(org)
	bodies := make([]string, n)
	cookies := make([]*http.Cookie, n)
	var wg sync.WaitGroup
	var signErr atomic.Value
	for w := range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += runtime.GOMAXPROCS(0) {
				rd, err := svc.StartLogin(ctx, "acme", "/")
				if err != nil {
					signErr.Store(err)
					return
				}
				posted, err := idp.Response(ssotest.Response{SP: sp, InResponseTo: rd.RequestID,
					User: ssotest.User{Email: fmt.Sprintf("user%d@acme.example", i), Roles: []string{"Engineering"}}})
				if err != nil {
					signErr.Store(err)
					return
				}
				bodies[i] = url.Values{"SAMLResponse": {posted}}.Encode()
				cookies[i] = rd.Cookie
			}
		}()
	}
	wg.Wait()
	if err, _ := signErr.Load().(error); err != nil {
		return err
	}

	// Interleave replays of earlier responses.
	var posts []post
	rng := rand.New(rand.NewPCG(1, 2))
	for i, b := range bodies {
		posts = append(posts, post{body: b, cookie: cookies[i]})
		if i > 0 && rng.Float64() < replayShare/(1-replayShare) {
			j := rng.IntN(i)
			posts = append(posts, post{body: bodies[j], cookie: cookies[j], replay: true})
		}
	}

	acs := sp.ACSURL
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var next atomic.Int64
	var accepted, replayAccepted, validRefused atomic.Int64
	lat := make([][]time.Duration, clients)
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(posts) {
					return
				}
				p := posts[i]
				t0 := time.Now()
				req, err := http.NewRequest(http.MethodPost, acs, strings.NewReader(p.body))
				if err != nil {
					otherErrs.Add(1)
					continue
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.AddCookie(&http.Cookie{Name: p.cookie.Name, Value: p.cookie.Value})
				resp, err := client.Do(req)
				d := time.Since(t0)
				if err != nil {
					otherErrs.Add(1)
					continue
				}
				resp.Body.Close()
				lat[c] = append(lat[c], d)
				switch {
				case resp.StatusCode == http.StatusNoContent && p.replay:
					replayAccepted.Add(1)
				case resp.StatusCode == http.StatusNoContent:
					accepted.Add(1)
				case !p.replay && resp.StatusCode == http.StatusConflict:
					// a replay of this response raced ahead of the original: the
					// pair still counts once; the replay below is then accepted.
					validRefused.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration { return all[int(p*float64(len(all)-1))] }
	replays := int64(len(posts) - n)
	fmt.Printf("clients %d, posts %d (%d valid, %d replays), GOMAXPROCS %d\n", clients, len(posts), n, replays, runtime.GOMAXPROCS(0))
	fmt.Printf("throughput %.0f req/s over %s\n", float64(len(posts))/elapsed.Seconds(), elapsed.Round(time.Millisecond))
	fmt.Printf("latency p50 %s  p99 %s  max %s\n", pct(0.50).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), all[len(all)-1].Round(time.Microsecond))
	fmt.Printf("accepted %d (want %d), replays refused %d, replays accepted %d (want 0), errors %d (want 0), originals beaten by their replay %d\n",
		accepted.Load()+validRefused.Load(), n, replaysRefused.Load(), replayAccepted.Load()-validRefused.Load(), otherErrs.Load(), validRefused.Load())
	if otherErrs.Load() != 0 || accepted.Load()+replayAccepted.Load() != int64(n) {
		return fmt.Errorf("load test failed: %d errors, %d acceptances for %d responses", otherErrs.Load(), accepted.Load()+replayAccepted.Load(), n)
	}
	return nil
}
