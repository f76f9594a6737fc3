package egain

import "io"

// Shorthands of the tests: bodies whose Content-Type names no charset, and
// the collection written as the handlers write it.

func DecodeCustomerXML(r io.Reader, lim Limits) (*Customer, error) {
	return DecodeCustomer(FormatXML, "", r, lim)
}

func DecodeCustomerJSON(r io.Reader, lim Limits) (*Customer, error) {
	return DecodeCustomer(FormatJSON, "", r, lim)
}

func EncodeCustomers(f Format, w io.Writer, selfHref string, customers []Customer) error {
	_, err := w.Write(appendCustomers(nil, f, selfHref, customers))
	return err
}

func EncodeCustomersXML(w io.Writer, selfHref string, customers []Customer) error {
	return EncodeCustomers(FormatXML, w, selfHref, customers)
}

func EncodeCustomersJSON(w io.Writer, selfHref string, customers []Customer) error {
	return EncodeCustomers(FormatJSON, w, selfHref, customers)
}
