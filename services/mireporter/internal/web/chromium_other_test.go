//go:build !unix

package web_test

import "os/exec"

// ownProcessGroup is a no-op without process groups: cancelling cmd kills
// the browser process only.
func ownProcessGroup(*exec.Cmd) {}

// killGroup kills cmd's process.
func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return cmd.Process.Kill()
}
