import Testing

// Placeholder until this module's tests land.
@Test func kubeRuntimeTestsBuilds() { #expect(Bool(true)) }
