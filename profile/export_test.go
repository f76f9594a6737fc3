package profile

// WithoutAudit makes s write no audit entries for profile writes, so a
// benchmark can measure what the trail costs.
func WithoutAudit(s *Service) { s.withoutAudit = true }
