// Package conformance runs containerd's own snapshotter and content test
// suites against a real strata process, reached through containerd's proxy
// clients exactly as containerd itself would reach a proxy plugin.
package conformance

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/containerd/containerd/pkg/dialer"
	"google.golang.org/grpc"
)

// strataCLI is the built CLI; the Makefile passes its absolute path.
var strataCLI = os.Getenv("STRATA_CLI")

// startStrata launches `strata serve` with its state under root and returns a
// connected client plus a stop function that sends SIGTERM and checks that the
// process exits cleanly and removes its socket.
func startStrata(ctx context.Context, root string, backend string) (*grpc.ClientConn, func() error, error) {
	if strataCLI == "" {
		return nil, nil, fmt.Errorf("STRATA_CLI is not set")
	}
	// Unix socket paths are limited to 108 bytes; keep it short and outside root.
	sockDir, err := os.MkdirTemp("", "strata-sock-")
	if err != nil {
		return nil, nil, err
	}
	sock := filepath.Join(sockDir, "s.sock")
	args := []string{strataCLI, "serve", "--root", root, "--address", sock}
	if backend != "" {
		args = append(args, "--backend", backend)
	}
	cmd := exec.Command("node", args...)
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		select {
		case err := <-exited:
			return nil, nil, fmt.Errorf("strata exited before listening: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			return nil, nil, fmt.Errorf("strata did not create %s in time", sock)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Dial exactly as containerd dials its proxy plugins (services/server).
	conn, err := grpc.DialContext(ctx, dialer.DialAddress(sock), grpc.WithInsecure(), grpc.WithContextDialer(dialer.ContextDialer))
	if err != nil {
		cmd.Process.Kill()
		return nil, nil, err
	}
	stop := func() error {
		conn.Close()
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			return err
		}
		select {
		case err := <-exited:
			if err != nil {
				return fmt.Errorf("strata exited uncleanly on SIGTERM: %v", err)
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			return fmt.Errorf("strata did not stop on SIGTERM")
		}
		defer os.RemoveAll(sockDir)
		if _, err := os.Stat(sock); err == nil {
			return fmt.Errorf("strata left its socket %s behind", sock)
		}
		return nil
	}
	return conn, stop, nil
}

