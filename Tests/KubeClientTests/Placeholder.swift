import Testing

// Placeholder until this module's tests land.
@Test func kubeClientTestsBuilds() { #expect(Bool(true)) }
