// Command sdkgen writes the Python and Node.js SDKs of the aoai-finetune provider plugin from its
// Pulumi package schema, with the code generators of the pinned Pulumi CLI (pkg/v3/codegen).
//
// The language hosts this project can build (Python v3.79, Node.js v3.68) predate the hosts'
// GeneratePackage call, so `pulumi package gen-sdk` cannot do it here; the generators themselves are
// plain Go packages and need no plugin.
//
//	sdkgen <schema.json> <out dir>   writes <out dir>/python and <out dir>/nodejs
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

const tool = "pulumi-aoai-finetune sdkgen"

// noReferences serves a schema that references no other package: binding and generation need a
// loader, and asking it for anything is a bug in the schema.
type noReferences struct{ schema.Loader }

func (noReferences) LoadPackageReference(pkg string, _ *semver.Version) (schema.PackageReference, error) {
	return nil, fmt.Errorf("the schema references another package (%s); it must not", pkg)
}

func (noReferences) LoadPackageReferenceV2(
	_ context.Context, d *schema.PackageDescriptor,
) (schema.PackageReference, error) {
	return nil, fmt.Errorf("the schema references another package (%s); it must not", d.Name)
}

func write(dir string, files map[string][]byte) error {
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func run(schemaPath, out string) error {
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("%s: %w", schemaPath, err)
	}
	loader := noReferences{schema.NewNullLoader()}
	pkg, err := schema.ImportSpec(spec, map[string]schema.Language{
		"python": python.Importer, "nodejs": nodejs.Importer,
	}, loader, schema.ValidationOptions{})
	if err != nil {
		return fmt.Errorf("the schema does not bind: %w", err)
	}
	py, err := python.GeneratePackage(tool, pkg, nil, loader)
	if err != nil {
		return fmt.Errorf("python: %w", err)
	}
	js, err := nodejs.GeneratePackage(tool, pkg, nil, nil, false, loader)
	if err != nil {
		return fmt.Errorf("nodejs: %w", err)
	}
	if err := write(filepath.Join(out, "python"), py); err != nil {
		return err
	}
	return write(filepath.Join(out, "nodejs"), js)
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: sdkgen <schema.json> <out dir>")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "sdkgen:", err)
		os.Exit(1)
	}
}
