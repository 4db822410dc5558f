/// Types YAML scalars the way `kubectl` reads manifests (sigs.k8s.io/yaml, which resolves with go-yaml v2's
/// YAML 1.1 rules and then converts to JSON).
///
/// Plain (unquoted) scalars:
/// - null: empty, `~`, `null`, `Null`, `NULL`
/// - true: `true True TRUE yes Yes YES y Y on On ON`; false: `false False FALSE no No NO n N off Off OFF`
/// - integers: optional sign, decimal, `0x` hex, `0o` or leading-`0` octal (`0755` is 493), `0b` binary; `_` digit
///   separators are ignored; values beyond 64 bits become doubles
/// - floats: `1.5`, `.5`, `1.`, `1e3`, `-1.5E-3`, `.inf`, `-.Inf`, `+.INF`, `.nan`, `.NaN`, `.NAN`
/// - everything else, including timestamps (`2024-01-01`), is a string
///
/// Quoted and block scalars are strings. Explicit tags win: `!!str`, `!!int`, `!!float`, `!!bool`, `!!null`;
/// a value that does not fit its tag (`!!int abc`) is an error. Unknown tags leave the text a string.
enum ScalarResolver {
    static let tagPrefix = "tag:yaml.org,2002:"

    /// The typed value of a scalar event, or a message explaining why its tag does not fit.
    static func resolve(_ scalar: ScalarEvent) -> Result<JSONValue, ResolveFailure> {
        guard let tag = scalar.tag else {
            return .success(scalar.isPlain ? resolvePlain(scalar.value) : .string(scalar.value))
        }
        guard tag.hasPrefix(tagPrefix) else { return .success(.string(scalar.value)) }
        let name = tag.dropFirst(tagPrefix.count)
        let typed = resolvePlain(scalar.value)
        switch (name, typed) {
        case ("int", .int), ("bool", .bool), ("null", .null), ("float", .double):
            return .success(typed)
        case ("float", .int(let integer)):
            return .success(.double(Double(integer)))
        case ("int", _), ("float", _), ("bool", _), ("null", _):
            return .failure(ResolveFailure(message: "cannot decode \(describe(scalar.value)) as !!\(name)"))
        case ("map", _), ("seq", _):
            return .failure(ResolveFailure(message: "tag !!\(name) cannot be used on a scalar"))
        default:
            // !!str, !!timestamp, !!binary and anything else keep their text.
            return .success(.string(scalar.value))
        }
    }

    struct ResolveFailure: Error {
        var message: String
    }

    private static func describe(_ text: String) -> String {
        JSON.emit(.string(text.count > 40 ? String(text.prefix(40)) + "…" : text))
    }

    /// The value a plain scalar's text denotes.
    static func resolvePlain(_ text: String) -> JSONValue {
        let utf8 = text.utf8
        guard let first = utf8.first else { return .null }
        switch first {
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            return number(text) ?? .string(text)
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            return keyword(text) ?? number(text) ?? .string(text)
        case UInt8(ascii: "."):
            if let value = keyword(text) { return value }
            if isFloatSyntax(Array(utf8)), let value = Double(text), value.isFinite { return .double(value) }
            return .string(text)
        case UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "t"),
            UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "o"), UInt8(ascii: "O"),
            UInt8(ascii: "~"):
            return keyword(text) ?? .string(text)
        default:
            return .string(text)
        }
    }

    /// True when a string written plain would read back as something else (so the emitter must quote it).
    static func plainTextChangesMeaning(_ text: String) -> Bool {
        if text == "<<" { return true }
        if case .string = resolvePlain(text) { return false }
        return true
    }

    private static func keyword(_ text: String) -> JSONValue? {
        // Keywords have at most 6 bytes and end in one of a few letters: most text fails here without comparisons.
        let length = text.utf8.count
        guard length <= 6, text.utf8.last.map(isKeywordEnding) ?? false else { return nil }
        switch text {
        case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON": return .bool(true)
        case "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF": return .bool(false)
        case "~", "null", "Null", "NULL": return .null
        case ".nan", ".NaN", ".NAN": return .double(.nan)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .double(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .double(-.infinity)
        default: return nil
        }
    }

    /// The last bytes keywords can end with (`yes`, `true`, `on`, `no`, `off`, `null`, `~`, `.nan`, `.inf`, ...).
    private static func isKeywordEnding(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "s"), UInt8(ascii: "S"), UInt8(ascii: "e"),
            UInt8(ascii: "E"), UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "o"), UInt8(ascii: "O"),
            UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "l"), UInt8(ascii: "L"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    /// Integer (Go `strconv.ParseInt(s, 0, 64)` after removing `_`), else YAML-style float, else nil.
    private static func number(_ text: String) -> JSONValue? {
        var bytes = Array(text.utf8)
        if bytes.contains(UInt8(ascii: "_")) { bytes.removeAll { $0 == UInt8(ascii: "_") } }
        switch parseInteger(bytes) {
        case .value(let integer): return .int(integer)
        case .overflow(let magnitude): return .double(magnitude)
        case .invalid: break
        }
        guard isFloatSyntax(bytes), let value = Double(String(decoding: bytes, as: UTF8.self)), value.isFinite else {
            return nil
        }
        return .double(value)
    }

    private enum IntegerParse {
        case value(Int64)
        case overflow(Double)
        case invalid
    }

    private static func parseInteger(_ bytes: [UInt8]) -> IntegerParse {
        var position = 0
        var negative = false
        if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
            negative = bytes[position] == UInt8(ascii: "-")
            position += 1
        }
        guard position < bytes.count else { return .invalid }
        var radix: UInt64 = 10
        if bytes[position] == UInt8(ascii: "0") {
            let prefixed = bytes.count - position >= 3
            switch prefixed ? bytes[position + 1] | 0x20 : 0 {
            case UInt8(ascii: "x"):
                radix = 16
                position += 2
            case UInt8(ascii: "o"):
                radix = 8
                position += 2
            case UInt8(ascii: "b"):
                radix = 2
                position += 2
            default:
                radix = 8
                position += 1
            }
        }
        var magnitude: UInt64 = 0
        var overflowed = false
        while position < bytes.count {
            guard let digit = digitValue(bytes[position]), UInt64(digit) < radix else { return .invalid }
            let (shifted, overflowA) = magnitude.multipliedReportingOverflow(by: radix)
            let (added, overflowB) = shifted.addingReportingOverflow(UInt64(digit))
            overflowed = overflowed || overflowA || overflowB
            magnitude = added
            position += 1
        }
        if overflowed || magnitude > UInt64(Int64.max) + (negative ? 1 : 0) {
            // Go's ParseUint still accepts unsigned values up to 2^64-1; beyond that the text is not an integer.
            guard !overflowed, !negative else { return .invalid }
            return .overflow(Double(magnitude))
        }
        if negative { return .value(magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude)) }
        return .value(Int64(magnitude))
    }

    private static func digitValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`, go-yaml's float pattern.
    private static func isFloatSyntax(_ bytes: [UInt8]) -> Bool {
        var position = 0
        func digits() -> Int {
            let start = position
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
                position += 1
            }
            return position - start
        }
        func skip(_ byte: UInt8) -> Bool {
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }
        if !skip(UInt8(ascii: "+")) { _ = skip(UInt8(ascii: "-")) }
        if skip(UInt8(ascii: ".")) {
            guard digits() > 0 else { return false }
        } else {
            guard digits() > 0 else { return false }
            if skip(UInt8(ascii: ".")) { _ = digits() }
        }
        if skip(UInt8(ascii: "e")) || skip(UInt8(ascii: "E")) {
            if !skip(UInt8(ascii: "+")) { _ = skip(UInt8(ascii: "-")) }
            guard digits() > 0 else { return false }
        }
        return position == bytes.count
    }
}
