internal import CYAML

/// A libyaml event turned into Swift values; the only shape of parser output the rest of the module sees.
enum ParserEvent {
    case streamStart
    case streamEnd
    case documentStart(SourcePosition)
    case documentEnd
    case scalar(ScalarEvent)
    case sequenceStart(CollectionEvent)
    case sequenceEnd
    case mappingStart(CollectionEvent)
    case mappingEnd
    case alias(anchor: String, position: SourcePosition)
}

struct ScalarEvent {
    var value: String
    var anchor: String?
    /// The resolved tag (`tag:yaml.org,2002:int`, `!custom`), or nil when none was written.
    var tag: String?
    /// Plain (unquoted, not a block scalar): only plain scalars are typed by their text.
    var isPlain: Bool
    var position: SourcePosition
}

struct CollectionEvent {
    var anchor: String?
    var tag: String?
    var position: SourcePosition
}

/// Owns a libyaml parser reading from a copy of the input that lives as long as the parser.
///
/// The `yaml_parser_t` is heap-allocated because libyaml keeps a pointer to it (`read_handler_data`), so it
/// must not move. Freed in `deinit`.
final class LibYAMLParser {
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let input: UnsafeMutableBufferPointer<UInt8>
    private let file: String?

    init(bytes: some Collection<UInt8>, file: String?) throws(YAMLError) {
        self.file = file
        input = .allocate(capacity: max(bytes.count, 1))
        let copied = input.initialize(fromContentsOf: bytes)
        parser = .allocate(capacity: 1)
        guard yaml_parser_initialize(parser) != 0 else {
            parser.deallocate()
            input.deallocate()
            throw YAMLError(file: file, message: "cannot initialise the YAML parser (out of memory)")
        }
        yaml_parser_set_input_string(parser, input.baseAddress, copied)
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deallocate()
        input.deallocate()
    }

    /// The next event, or the parser's syntax error with libyaml's position and wording.
    func next() throws(YAMLError) -> ParserEvent {
        var event = yaml_event_t()
        guard yaml_parser_parse(parser, &event) != 0 else { throw syntaxError() }
        defer { yaml_event_delete(&event) }
        let position = Self.position(event.start_mark)
        switch event.type {
        case YAML_STREAM_START_EVENT:
            return .streamStart
        case YAML_STREAM_END_EVENT:
            return .streamEnd
        case YAML_DOCUMENT_START_EVENT:
            return .documentStart(position)
        case YAML_DOCUMENT_END_EVENT:
            return .documentEnd
        case YAML_ALIAS_EVENT:
            return .alias(anchor: Self.string(event.data.alias.anchor) ?? "", position: position)
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            let value = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
            return .scalar(
                ScalarEvent(
                    value: value,
                    anchor: Self.string(scalar.anchor),
                    tag: Self.string(scalar.tag),
                    isPlain: scalar.style == YAML_PLAIN_SCALAR_STYLE,
                    position: position
                )
            )
        case YAML_SEQUENCE_START_EVENT:
            let start = event.data.sequence_start
            return .sequenceStart(
                CollectionEvent(anchor: Self.string(start.anchor), tag: Self.string(start.tag), position: position)
            )
        case YAML_SEQUENCE_END_EVENT:
            return .sequenceEnd
        case YAML_MAPPING_START_EVENT:
            let start = event.data.mapping_start
            return .mappingStart(
                CollectionEvent(anchor: Self.string(start.anchor), tag: Self.string(start.tag), position: position)
            )
        case YAML_MAPPING_END_EVENT:
            return .mappingEnd
        default:
            throw YAMLError(file: file, position: position, message: "unexpected YAML event \(event.type.rawValue)")
        }
    }

    private func syntaxError() -> YAMLError {
        let problem = Self.string(parser.pointee.problem) ?? "invalid YAML"
        let mark = parser.pointee.problem_mark
        var message = problem
        if let context = Self.string(parser.pointee.context) {
            message += " (\(context) at \(Self.position(parser.pointee.context_mark)))"
        }
        if parser.pointee.error == YAML_READER_ERROR {
            // Reader errors (bad encoding) report a byte offset; libyaml leaves line/column unset.
            message += " at byte \(parser.pointee.problem_offset)"
            return YAMLError(file: file, position: nil, message: message)
        }
        return YAMLError(file: file, position: Self.position(mark), message: message)
    }

    private static func position(_ mark: yaml_mark_t) -> SourcePosition {
        SourcePosition(line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }

    private static func string(_ pointer: UnsafePointer<CChar>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }
}
