//! A three-state field for partial writes: absent keeps the stored value, `null` clears it, a
//! value replaces it.

#[derive(Debug, Clone, PartialEq, Default)]
pub enum Patch<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<T> Patch<T> {
    pub fn is_absent(&self) -> bool {
        matches!(self, Patch::Absent)
    }

    pub fn as_value(&self) -> Option<&T> {
        match self {
            Patch::Value(v) => Some(v),
            _ => None,
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Patch<U> {
        match self {
            Patch::Absent => Patch::Absent,
            Patch::Null => Patch::Null,
            Patch::Value(v) => Patch::Value(f(v)),
        }
    }

    /// Applies the patch to an optional stored value.
    pub fn apply_to(self, slot: &mut Option<T>) {
        match self {
            Patch::Absent => {}
            Patch::Null => *slot = None,
            Patch::Value(v) => *slot = Some(v),
        }
    }
}

impl<T> Patch<Vec<T>> {
    /// Applies the patch to a list, where `null` means the empty list.
    pub fn apply_to_list(self, slot: &mut Vec<T>) {
        match self {
            Patch::Absent => {}
            Patch::Null => slot.clear(),
            Patch::Value(v) => *slot = v,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_keeps_null_clears_value_replaces() {
        let mut slot = Some(1);
        Patch::Absent.apply_to(&mut slot);
        assert_eq!(slot, Some(1));
        Patch::Value(2).apply_to(&mut slot);
        assert_eq!(slot, Some(2));
        Patch::<i32>::Null.apply_to(&mut slot);
        assert_eq!(slot, None);
        let mut list = vec![1];
        Patch::<Vec<i32>>::Null.apply_to_list(&mut list);
        assert!(list.is_empty());
    }
}
