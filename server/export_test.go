package server

// Headless is headless, for tests of the external test package.
var Headless = headless
