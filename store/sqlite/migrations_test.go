package sqlite

import (
	"io/fs"
	"strings"
	"testing"
)

// TestMigrationNumbersUnique: migrate skips a file whose number it has reached, so two files
// with one number (two branches each adding "the next" migration) would leave one unapplied
// without a word.
func TestMigrationNumbersUnique(t *testing.T) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, name := range names {
		num, _, _ := strings.Cut(strings.TrimPrefix(name, "migrations/"), "_")
		if other, ok := seen[num]; ok {
			t.Errorf("migrations %s and %s share the number %s: renumber one", other, name, num)
		}
		seen[num] = name
	}
}
