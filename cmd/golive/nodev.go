//go:build nodevserver

package main

import "github.com/spf13/cobra"

// addDevCommands adds nothing: this build (-tags nodevserver) leaves the embedded
// Temporal server out, as production workers should.
func addDevCommands(root *cobra.Command, g *globals) {}
