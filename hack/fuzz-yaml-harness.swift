// libFuzzer entry point for the YAML module, compiled by hack/fuzz-yaml together with Sources/YAML/*.swift as
// one module. Every input must parse to a value or a YAMLError; every value that parses must survive
// emit → parse unchanged (YAML, and JSON when it has no NaN/infinity). Anything else traps, which libFuzzer
// reports with the input that caused it.

/// Checks one input; traps with a description when an invariant breaks.
func checkYAMLInvariants(_ bytes: [UInt8]) {
    let limits = YAMLLimits(maxDepth: 128, maxDocumentBytes: 1 << 20, maxAliasExpansion: 100_000)
    if let documents = try? YAML.parseAll(bytes, limits: limits) {
        let values = documents.map(\.value)
        let emitted = YAML.emitAll(values)
        do {
            let reparsed = try YAML.parseAll(emitted).map(\.value)
            guard reparsed == values else { fatalError("YAML round trip changed the value:\n\(emitted)") }
        } catch {
            fatalError("emitted YAML does not parse (\(error)):\n\(emitted)")
        }
        for value in values where JSON.emit(value) == JSON.emit(value).replacingNulls(of: value) {
            guard (try? JSON.parse(JSON.emit(value))) == value else { fatalError("JSON round trip changed \(value)") }
        }
    }
    if let value = try? JSON.parse(bytes) {
        guard (try? JSON.parse(JSON.emit(value, pretty: true))) == value else {
            fatalError("JSON round trip changed \(value)")
        }
    }
}

extension String {
    /// The JSON text unchanged when `value` has no non-finite doubles (which JSON writes as null), else "".
    fileprivate func replacingNulls(of value: JSONValue) -> String { hasNonFinite(value) ? "" : self }
}

private func hasNonFinite(_ value: JSONValue) -> Bool {
    switch value {
    case .double(let number): !number.isFinite
    case .array(let elements): elements.contains(where: hasNonFinite)
    case .object(let object): object.contains { hasNonFinite($0.value) }
    default: false
    }
}

#if BULWARK_LIBFUZZER
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzYAMLInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
        checkYAMLInvariants(Array(UnsafeBufferPointer(start: data, count: size)))
        return 0
    }
#endif
