// Package bundle writes and reads signed update bundles: one file holding a
// manifest (what the bundle is, where it may run, every file with its size
// and SHA-256), an ed25519 signature over the manifest's exact bytes, and
// the files. The format is in README.md.
//
// A signer calls Create. An update agent calls Open with its trusted keys,
// Acceptable with what it runs, then ExtractTo into its inactive slot (or
// Next to stream the files itself); no file is trusted before its hash
// matched the signed manifest.
package bundle
