package discovery

import "testing"

// BenchmarkRescan measures what the UI pays every refresh: a scan with a
// warm Scanner, every process's namespaces included.
func BenchmarkRescan(b *testing.B) {
	s := NewScanner()
	if _, err := s.Scan(ScanOptions{ProcessNamespaces: true}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Scan(ScanOptions{ProcessNamespaces: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkColdScan is one `boxtui ls`: a scan with nothing cached.
func BenchmarkColdScan(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := Scan(ScanOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
