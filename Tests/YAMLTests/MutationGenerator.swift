import YAML

/// Reproducible hostile inputs: seeds from real manifests and YAML corner cases, mutated by byte flips,
/// truncation, insertion of YAML syntax, duplication, splicing and deep nesting.
struct MutationGenerator {
    private var random: SplitMix64
    private let corpus: [[UInt8]]

    init(seed: UInt64, corpus: [String] = MutationGenerator.yamlCorpus) {
        random = SplitMix64(seed: seed)
        self.corpus = corpus.map { Array($0.utf8) }
    }

    static let yamlCorpus: [String] = [
        ManifestFixtures.deployment, ManifestFixtures.networkPolicy, ManifestFixtures.customResourceDefinition,
        ManifestFixtures.kindKubeconfig,
        "a: &a {x: 1, y2: [1, 2]}\nb:\n  <<: *a\n  z: *a\n---\nc: [*a, {<<: [*a], w: 1}]\n",
        "- !!int \"12\"\n- !!str 12\n- !!float 1\n- ~\n- yes\n- 0x1F\n- 0o17\n- .inf\n- -.nan\n- '1_000'\n",
        "s: |\n  line one\n   indented\n\n  after blank\nf: >-\n  folded\n  text\nq: \"esc\\t\\u00e9\\n\"\n",
        "{a: [1, {b: c}], 'd': \"e\", ? f : g}\n",
        "? complex\n: value\n... \n--- !!map\nk: v\n",
        "x: 1\n# comment\ny2: 'it''s'\nempty:\nlist:\n- \n- - nested\n  - seq\n",
        "%YAML 1.1\n%TAG !e! tag:example.com,2000:\n---\n!e!thing {a: 1}\n",
    ]

    static let jsonCorpus: [String] = [
        #"{"a": [1, 2.5, -3e2, true, false, null], "b": {"c": "d\n\u00e9\ud83c\udf89"}, "": {}}"#,
        #"[{"kind": "Pod", "metadata": {"name": "p", "labels": {"app": "x"}}}, [], "\\\/\""]"#,
    ]

    private static let fragments: [String] = [
        ":", ": ", "- ", "[", "]", "{", "}", ",", "&a ", "*a", "<<: ", "!!int ", "!!map ", "!!seq ", "\"", "'",
        "|\n", ">\n", "\n", "  ", "\t", "#", "---\n", "...\n", "? ", "%", "@", "`", "\\", "~", "0x", ".inf", "\u{0}",
        "\u{FEFF}", "é", "\r\n", "*b", "&b [1, *a]", "yes", "1e3", "\u{85}", "\u{2028}",
    ]

    mutating func next() -> [UInt8] {
        var bytes = corpus[random.below(corpus.count)]
        for _ in 0...random.below(4) { mutate(&bytes) }
        return bytes
    }

    private mutating func mutate(_ bytes: inout [UInt8]) {
        let position = random.below(bytes.count + 1)
        switch random.below(8) {
        case 0 where !bytes.isEmpty:
            bytes[min(position, bytes.count - 1)] ^= UInt8(truncatingIfNeeded: 1 << random.below(8))
        case 1:
            bytes.removeSubrange(position...)
        case 2, 3:
            bytes.insert(contentsOf: Self.fragments[random.below(Self.fragments.count)].utf8, at: position)
        case 4 where !bytes.isEmpty:
            let end = min(bytes.count, position + random.below(40))
            bytes.insert(contentsOf: bytes[position..<end], at: random.below(bytes.count + 1))
        case 5:
            let other = corpus[random.below(corpus.count)]
            bytes.insert(contentsOf: other[random.below(other.count)...], at: position)
        case 6:
            let depth = 1 + random.below(100)
            let (open, close) = [("[", "]"), ("{a: ", "}"), ("- ", "")][random.below(3)]
            let nested = String(repeating: open, count: depth) + "x" + String(repeating: close, count: depth)
            bytes.insert(contentsOf: nested.utf8, at: position)
        default:
            let end = min(bytes.count, position + random.below(10))
            bytes.removeSubrange(position..<end)
        }
    }
}

/// A tiny, fast, reproducible generator (Steele, Lea, Flood 2014).
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { bound <= 1 ? 0 : Int(next() % UInt64(bound)) }
}
