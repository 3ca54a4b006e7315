package edgeauth

import (
	"go/ast"
	"go/doc"
	"go/parser"
	gotoken "go/token"
	"os"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// The godoc of the package: every exported identifier has a doc, no doc
// names an unexported identifier (as a Go name: camelCase or with "_"), and
// no exported var or const shows one in its declaration (godoc prints it).
func TestGodoc(t *testing.T) {
	fset := gotoken.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, e := range entries {
		if name := e.Name(); strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
	}
	internal := map[string]bool{}
	for _, f := range files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && !ast.IsExported(d.Name.Name) {
					internal[d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, sp := range d.Specs {
					switch sp := sp.(type) {
					case *ast.TypeSpec:
						internal[sp.Name.Name] = !ast.IsExported(sp.Name.Name)
					case *ast.ValueSpec:
						for _, n := range sp.Names {
							internal[n.Name] = !ast.IsExported(n.Name) && n.Name != "_"
						}
					}
				}
			}
		}
	}
	p, err := doc.NewFromFiles(fset, files, "github.com/edgeauth/edgeauth")
	if err != nil {
		t.Fatal(err)
	}
	word := regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
	goName := func(w string) bool { return strings.ContainsFunc(w[1:], unicode.IsUpper) || strings.Contains(w, "_") }
	checked := 0
	check := func(name, text string) {
		checked++
		if strings.TrimSpace(text) == "" {
			t.Errorf("%s has no doc", name)
			return
		}
		for _, w := range word.FindAllString(text, -1) {
			if internal[w] && goName(w) {
				t.Errorf("the doc of %s names the unexported %s", name, w)
			}
		}
	}
	for _, f := range p.Funcs {
		check(f.Name, f.Doc)
	}
	for _, ty := range p.Types {
		check(ty.Name, ty.Doc)
		for _, f := range ty.Funcs {
			check(f.Name, f.Doc)
		}
		for _, m := range ty.Methods {
			check(ty.Name+"."+m.Name, m.Doc)
		}
	}
	values := append(p.Vars, p.Consts...)
	for _, ty := range p.Types {
		values = append(values, ty.Vars...)
		values = append(values, ty.Consts...)
	}
	for _, v := range values {
		for _, sp := range v.Decl.Specs {
			vs := sp.(*ast.ValueSpec)
			text := v.Doc
			if vs.Doc != nil {
				text = vs.Doc.Text()
			}
			check(vs.Names[0].Name, text)
			ast.Inspect(vs, func(n ast.Node) bool {
				if id, ok := n.(*ast.Ident); ok && internal[id.Name] {
					t.Errorf("the declaration of %s shows the unexported %s", vs.Names[0].Name, id.Name)
				}
				return true
			})
		}
	}
	if checked < 80 {
		t.Fatalf("only %d declarations checked", checked)
	}
}
