//! The five scheduling priorities of DETR P2P (0 highest).

/// A scheduling priority; [`Priority::Critical`] (0) goes first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Priority {
    /// 0: consensus and handshakes.
    Critical = 0,
    /// 1: block announces.
    High = 1,
    /// 2: bridge messages.
    Normal = 2,
    /// 3: transactions.
    Low = 3,
    /// 4: custom, bulk traffic.
    Bulk = 4,
}

impl Priority {
    /// Number of priority levels.
    pub const LEVELS: usize = 5;
    /// All levels, highest first.
    pub const ALL: [Priority; Self::LEVELS] =
        [Priority::Critical, Priority::High, Priority::Normal, Priority::Low, Priority::Bulk];

    /// The level as an index, 0 highest.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The priority of level `index`, if it is one.
    pub fn from_index(index: usize) -> Option<Self> {
        Self::ALL.get(index).copied()
    }
}
