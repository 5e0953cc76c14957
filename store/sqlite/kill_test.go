package sqlite_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/sqlite"
)

// killDBEnv tells the test binary, run again as a child, to be the writer
// of TestWritesSurviveKill.
const killDBEnv = "ORGSSO_SQLITE_KILL_DB"

// TestWritesSurviveKill: a child process writes sessions and used assertion
// IDs in a loop, reporting each write that returned; it is killed (SIGKILL
// on Unix) mid-loop. Every reported write is in the database afterwards,
// and the database is intact.
func TestWritesSurviveKill(t *testing.T) {
	if os.Getenv(killDBEnv) != "" {
		t.Skip("in the child")
	}
	path := filepath.Join(t.TempDir(), "orgsso.db")
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), killDBEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var written []string
	lines := bufio.NewScanner(out)
	for len(written) < 50 && lines.Scan() {
		if id, ok := strings.CutPrefix(lines.Text(), "wrote "); ok {
			written = append(written, id)
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait() // killed: the error is expected
	if len(written) < 50 {
		t.Fatalf("the child reported %d writes before it stopped; want 50", len(written))
	}

	ctx := t.Context()
	st := open(t, path)
	var check string
	if err := st.DB().QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check = %q, %v; want ok", check, err)
	}
	for _, id := range written {
		if _, err := st.Session(ctx, id); err != nil {
			t.Errorf("Session(%s) after kill err = %v; want the session", id, err)
		}
		if err := st.UseAssertion(ctx, "org1", id, time.Now()); !errors.Is(err, sso.ErrReplay) {
			t.Errorf("UseAssertion(%s) after kill err = %v; want ErrReplay", id, err)
		}
	}
}

// TestKillChild is the child of TestWritesSurviveKill; run alone, it skips.
func TestKillChild(t *testing.T) {
	path := os.Getenv(killDBEnv)
	if path == "" {
		t.Skip("the child process of TestWritesSurviveKill")
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		id := fmt.Sprintf("id-%06d", i)
		if err := st.CreateSession(ctx, &session.Session{ID: id, OrgID: "org1", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := st.UseAssertion(ctx, "org1", id, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		fmt.Println("wrote", id) // unbuffered: the parent sees it at once
	}
}
