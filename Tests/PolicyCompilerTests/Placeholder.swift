import Testing

// Placeholder until this module's tests land.
@Test func policyCompilerTestsBuilds() { #expect(Bool(true)) }
