import NIOConcurrencyHelpers

/// The process-wide store of `store: true` responses (§5.2: a continuation that misses the
/// connection cache is loaded from persisted storage; with `store: false` there is no fallback).
/// Bounded so that a long benchmark with the default `store: true` cannot grow without limit: the
/// oldest entries go first.
final class ResponseStore: Sendable {
    private struct State {
        var nodes: [String: ConversationNode] = [:]
        var order: [String] = []     // insertion order, for eviction
        var orderStart = 0           // entries before this index were already evicted
    }

    private let state = NIOLockedValueBox(State())
    let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    func put(_ node: ConversationNode) {
        state.withLockedValue { s in
            if s.nodes.updateValue(node, forKey: node.responseID) == nil { s.order.append(node.responseID) }
            while s.nodes.count > capacity, s.orderStart < s.order.count {
                s.nodes[s.order[s.orderStart]] = nil
                s.orderStart += 1
            }
            // Compact the order list once most of it is dead.
            if s.orderStart > 1024 && s.orderStart * 2 > s.order.count {
                s.order.removeFirst(s.orderStart)
                s.orderStart = 0
            }
        }
    }

    func get(_ id: String) -> ConversationNode? {
        state.withLockedValue { $0.nodes[id] }
    }

    var count: Int { state.withLockedValue { $0.nodes.count } }
}
