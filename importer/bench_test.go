package importer_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/contactcenter/profiled/importer"
)

// BenchmarkImport loads profiles shaped like the Genesys create example
// (two e-mail addresses, three Phone records) in batches of 2000; ns/op is
// per profile.
func BenchmarkImport(b *testing.B) {
	svc := newService(b)
	var buf bytes.Buffer
	for i := range b.N {
		fmt.Fprintf(&buf, `{"FirstName":"Bruce","LastName":"Banner","DOB":"1962-05-10","EmailAddress":["u%d@bench.example","u%d@alt.example"],`+
			`"Phone":[{"PhoneType":0,"prefix":"+33","PhoneNumber":"1%010d","description":"family phone","start_availabilty":"2009-12-18T18:30:00.000Z","end_availabilty":"2009-12-18T21:40:00.000Z"},`+
			`{"PhoneType":2,"prefix":"+33","PhoneNumber":"2%010d","description":"businness calls only, no sales","start_availabilty":"2009-12-18T09:30:00.000Z","end_availabilty":"2009-12-18T17:45:00.000Z"},`+
			`{"PhoneType":5,"prefix":"+33","PhoneNumber":"3%010d","description":""}]}`+"\n", i, i, i, i, i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	if _, err := importer.Import(context.Background(), svc, &buf, importer.Options{}); err != nil {
		b.Fatal(err)
	}
}
