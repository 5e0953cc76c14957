// Command ratios reads `go test -bench` output on stdin and prints the medians
// and ratios the performance work tracks: Validate against the floor and the
// peers per response shape, allocations, HandleACS against Validate, and
// the session check with a warm session cache against without it.
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var line = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(.*)$`)
var allocs = regexp.MustCompile(`(\d+) allocs/op`)

func main() {
	ns := map[string][]float64{}
	al := map[string][]float64{}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	pkg := ""
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "pkg: "); ok {
			pkg = p[strings.LastIndex(p, "/")+1:] + "."
			continue
		}
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		m[1] = pkg + m[1]
		v, _ := strconv.ParseFloat(m[2], 64)
		ns[m[1]] = append(ns[m[1]], v)
		if a := allocs.FindStringSubmatch(m[3]); a != nil {
			f, _ := strconv.ParseFloat(a[1], 64)
			al[m[1]] = append(al[m[1]], f)
		}
	}
	med := func(xs []float64) float64 {
		if len(xs) == 0 {
			return 0
		}
		s := slices.Clone(xs)
		slices.Sort(s)
		if len(s)%2 == 1 {
			return s[len(s)/2]
		}
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	names := make([]string, 0, len(ns))
	for k := range ns {
		names = append(names, k)
	}
	slices.Sort(names)
	fmt.Printf("%-60s %14s %12s\n", "benchmark (median)", "time/op", "allocs/op")
	for _, k := range names {
		fmt.Printf("%-60s %14s %12.0f\n", k, dur(med(ns[k])), med(al[k]))
	}
	ratio := func(label, a, b string, target string) {
		x, y := med(ns[a]), med(ns[b])
		if x == 0 || y == 0 {
			return
		}
		fmt.Printf("%-60s %8.2fx   %s\n", label, x/y, target)
	}
	aratio := func(label, a, b string, target string) {
		x, y := med(al[a]), med(al[b])
		if x == 0 || y == 0 {
			return
		}
		fmt.Printf("%-60s %8.2fx   %s\n", label, x/y, target)
	}
	fmt.Println()
	for _, s := range []string{"minimal", "typical", "large"} {
		v := "bench.BenchmarkOrgssoValidate/" + s
		ratio("Validate / floor ("+s+")", v, "bench.BenchmarkFloor/"+s, map[bool]string{true: "target <= 2.5x", false: "target <= 2.0x"}[s == "large"])
		aratio("Validate allocs / floor allocs ("+s+")", v, "bench.BenchmarkFloor/"+s, "target <= 2x")
		ratio("gosaml2 raw / Validate ("+s+")", "bench.BenchmarkGosaml2Raw/"+s, v, "target >= 3x")
		ratio("crewjam / Validate ("+s+")", "bench.BenchmarkCrewjamParseXMLResponse/"+s, v, "target >= 4x")
	}
	ratio("HandleACS memory (sso) / Validate (saml)", "sso.BenchmarkHandleACS", "saml.BenchmarkValidate", "target <= 1.2x")
	ratio("HandleACS memory / Validate typical (sqlite pkg vs bench pkg)", "sqlite.BenchmarkHandleACS/memory", "bench.BenchmarkOrgssoValidate/typical", "")
	for _, st := range []string{"memory", "sqlite", "postgres"} {
		cached := st + ".BenchmarkSessionCheck/cached"
		if x := med(ns[cached]); x > 0 {
			fmt.Printf("%-60s %14s   %s\n", "SessionCheck cached, warm replica ("+st+")", dur(x), "target <= 5 µs")
		}
		ratio("SessionCheck uncached / cached ("+st+")", st+".BenchmarkSessionCheck/uncached", cached, "")
	}
	ratio("HandleACS sqlite / HandleACS memory (same process)", "sqlite.BenchmarkHandleACS/sqlite", "sqlite.BenchmarkHandleACS/memory", "target <= 1.3x")
	ratio("HandleACS first sign-in sqlite / memory (same process)", "sqlite.BenchmarkHandleACSFirstSignIn/sqlite", "sqlite.BenchmarkHandleACSFirstSignIn/memory", "")
	ratio("HandleACS postgres / HandleACS memory (same process)", "postgres.BenchmarkHandleACS/postgres", "postgres.BenchmarkHandleACS/memory", "")
	ratio("HandleACS first sign-in postgres / memory (same process)", "postgres.BenchmarkHandleACSFirstSignIn/postgres", "postgres.BenchmarkHandleACSFirstSignIn/memory", "")
}

func dur(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.3f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}
