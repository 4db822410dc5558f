internal import CYAML

/// Owns a libyaml emitter writing into a Swift byte buffer; the only place that builds libyaml events.
///
/// The `yaml_emitter_t` is heap-allocated so it never moves while libyaml holds pointers into it. Freed in
/// `deinit`. Every method returns false when libyaml refuses an event (the caller then falls back).
final class LibYAMLEmitter {
    enum ScalarStyle {
        /// Let libyaml choose (plain when the text allows it).
        case any
        case doubleQuoted
        /// `|` block, for multi-line text; libyaml falls back to quoting when the text cannot be a block.
        case literal
    }

    private let emitter: UnsafeMutablePointer<yaml_emitter_t>
    private(set) var output: [UInt8] = []
    private var failed = false

    init?() {
        emitter = .allocate(capacity: 1)
        guard yaml_emitter_initialize(emitter) != 0 else {
            emitter.deallocate()
            return nil
        }
        yaml_emitter_set_unicode(emitter, 1)
        yaml_emitter_set_width(emitter, -1)
        yaml_emitter_set_indent(emitter, 2)
        yaml_emitter_set_output(
            emitter,
            { context, buffer, size in
                guard let context, let buffer else { return 0 }
                let owner = Unmanaged<LibYAMLEmitter>.fromOpaque(context).takeUnretainedValue()
                owner.output.append(contentsOf: UnsafeBufferPointer(start: buffer, count: size))
                return 1
            }, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        yaml_emitter_delete(emitter)
        emitter.deallocate()
    }

    /// False once any event failed; the output is then incomplete.
    var succeeded: Bool { !failed }

    func streamStart() {
        send { yaml_stream_start_event_initialize(&$0, YAML_UTF8_ENCODING) }
    }

    func streamEnd() {
        send { yaml_stream_end_event_initialize(&$0) }
    }

    func documentStart(explicitMarker: Bool) {
        send { yaml_document_start_event_initialize(&$0, nil, nil, nil, explicitMarker ? 0 : 1) }
    }

    func documentEnd() {
        send { yaml_document_end_event_initialize(&$0, 1) }
    }

    func mappingStart(flow: Bool) {
        send {
            yaml_mapping_start_event_initialize(
                &$0, nil, nil, 1, flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE)
        }
    }

    func mappingEnd() {
        send { yaml_mapping_end_event_initialize(&$0) }
    }

    func sequenceStart(flow: Bool) {
        send {
            yaml_sequence_start_event_initialize(
                &$0, nil, nil, 1, flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE
            )
        }
    }

    func sequenceEnd() {
        send { yaml_sequence_end_event_initialize(&$0) }
    }

    func scalar(_ text: String, style: ScalarStyle) {
        let cStyle: yaml_scalar_style_t =
            switch style {
            case .any: YAML_ANY_SCALAR_STYLE
            case .doubleQuoted: YAML_DOUBLE_QUOTED_SCALAR_STYLE
            case .literal: YAML_LITERAL_SCALAR_STYLE
            }
        // libyaml requires a non-null value pointer, also for the empty string.
        var bytes = Array(text.utf8)
        bytes.append(0)
        bytes.withUnsafeBufferPointer { buffer in
            send { event in
                yaml_scalar_event_initialize(
                    &event, nil, nil, buffer.baseAddress, Int32(buffer.count - 1), 1, 1, cStyle)
            }
        }
    }

    private func send(_ initialize: (inout yaml_event_t) -> Int32) {
        guard !failed else { return }
        var event = yaml_event_t()
        guard initialize(&event) != 0 else {
            failed = true
            return
        }
        // yaml_emitter_emit takes ownership of the event, also on failure.
        if yaml_emitter_emit(emitter, &event) == 0 { failed = true }
    }
}
