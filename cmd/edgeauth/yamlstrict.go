package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decodeYAML decodes one YAML document into v, a pointer to a struct whose
// fields carry yaml tags. It is strict where a gateway's configuration must
// be: an unknown or repeated key, a value of the wrong kind, an alias or a
// second document is an error that names the key path ("rules[1].roles")
// and line. An empty document leaves v as it is.
func decodeYAML(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return fmt.Errorf("not valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return errors.New("more than one YAML document")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil
		}
		root = root.Content[0]
	}
	if isNull(root) {
		return nil
	}
	return decodeNode("", root, reflect.ValueOf(v).Elem())
}

var durationType = reflect.TypeFor[time.Duration]()

// yamlError names the key path and line of a bad value.
func yamlError(path string, n *yaml.Node, format string, args ...any) error {
	if path == "" {
		path = "top level"
	}
	return fmt.Errorf("%s (line %d): %s", path, n.Line, fmt.Sprintf(format, args...))
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func decodeNode(path string, n *yaml.Node, v reflect.Value) error {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		// Aliases can multiply a small file into a huge value; a
		// configuration has no need for them.
		return yamlError(path, n, "YAML anchors and aliases are not supported")
	}
	if isNull(n) {
		v.SetZero()
		return nil
	}
	if v.Type() == durationType {
		return decodeDuration(path, n, v)
	}
	switch v.Kind() {
	case reflect.Struct:
		return decodeStruct(path, n, v)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return yamlError(path, n, "want a list")
		}
		out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			if err := decodeNode(fmt.Sprintf("%s[%d]", path, i), item, out.Index(i)); err != nil {
				return err
			}
		}
		v.Set(out)
		return nil
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return yamlError(path, n, "want a mapping of names to values")
		}
		out := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || isNull(k) {
				return yamlError(path, k, "keys must be plain names")
			}
			key := reflect.ValueOf(k.Value)
			if out.MapIndex(key).IsValid() {
				return yamlError(joinPath(path, k.Value), k, "key given twice")
			}
			elem := reflect.New(v.Type().Elem()).Elem()
			if err := decodeNode(joinPath(path, k.Value), val, elem); err != nil {
				return err
			}
			out.SetMapIndex(key, elem)
		}
		v.Set(out)
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return yamlError(path, n, "want a single value, not a list or mapping")
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(n.Value)
	case reflect.Bool:
		if n.Tag != "!!bool" {
			return yamlError(path, n, "want true or false")
		}
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err != nil {
			return yamlError(path, n, "want true or false")
		}
		v.SetBool(b)
	case reflect.Int:
		i, err := strconv.ParseInt(n.Value, 10, 0)
		if n.Tag != "!!int" || err != nil {
			return yamlError(path, n, "want an integer")
		}
		v.SetInt(i)
	default:
		return yamlError(path, n, "unsupported field type %s", v.Type())
	}
	return nil
}

// decodeDuration accepts a Go duration ("30s", "720h") or an integer number
// of seconds, as Auth.js writes maxAge.
func decodeDuration(path string, n *yaml.Node, v reflect.Value) error {
	const want = `want a duration such as "30s" or "720h", or a number of seconds`
	if n.Kind != yaml.ScalarNode {
		return yamlError(path, n, want)
	}
	if n.Tag == "!!int" {
		secs, err := strconv.ParseInt(n.Value, 10, 64)
		if err != nil || secs > int64(maxAgeSecs) || secs < -int64(maxAgeSecs) {
			return yamlError(path, n, want)
		}
		v.SetInt(secs * int64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(n.Value)
	if n.Tag != "!!str" || err != nil {
		return yamlError(path, n, want)
	}
	v.SetInt(int64(d))
	return nil
}

func decodeStruct(path string, n *yaml.Node, v reflect.Value) error {
	if n.Kind != yaml.MappingNode {
		return yamlError(path, n, "want a mapping of keys")
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || isNull(k) {
			return yamlError(path, k, "keys must be plain names")
		}
		keyPath := joinPath(path, k.Value)
		field, ok := fieldByTag(v, k.Value)
		if !ok {
			return yamlError(keyPath, k, "unknown key")
		}
		if seen[k.Value] {
			return yamlError(keyPath, k, "key given twice")
		}
		seen[k.Value] = true
		if err := decodeNode(keyPath, val, field); err != nil {
			return err
		}
	}
	return nil
}

// fieldByTag finds the field tagged `yaml:"name"`; keys are case-sensitive,
// as YAML keys are.
func fieldByTag(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); tag == name && tag != "" && tag != "-" {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
