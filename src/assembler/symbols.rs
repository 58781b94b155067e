//! The symbol table: lexical scopes (`.proc`/`.scope`), named symbols and cheap locals.
//!
//! ca65 rules mirrored here: a reference looks the name up in the current scope and then in
//! each enclosing scope, and when nothing is found it creates an undefined symbol in the
//! current scope. At the end of assembly an undefined symbol in an inner scope resolves to a
//! defined symbol of the same name in an enclosing scope. Cheap locals (`@name`) live between
//! two normal symbol definitions.

use super::expr::{AddrSize, Expr, SegId, SymId};
use super::study::SymInfo;
use std::collections::HashMap;

/// Index of a lexical scope; 0 is the global scope.
pub type ScopeId = u32;

/// A source position (file index into the assembler's file list, 1-based line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub file: u32,
    pub line: u32,
    pub col: u32,
}

/// One symbol.
#[derive(Debug, Clone)]
pub struct Symbol {
    pub name: String,
    pub scope: ScopeId,
    /// True for cheap locals, which never appear in the exported symbol table.
    pub cheap: bool,
    /// The defining expression (labels: segment base + offset).
    pub def: Option<Expr>,
    /// Address size recorded at definition time.
    pub addr: AddrSize,
    pub def_pos: Option<Pos>,
    /// First reference, for "undefined symbol" errors.
    pub ref_pos: Option<Pos>,
    /// Set when an undefined inner-scope symbol resolved to an outer one.
    pub alias: Option<SymId>,
}

/// A lexical scope.
#[derive(Debug, Clone)]
pub struct Scope {
    pub name: String,
    pub parent: Option<ScopeId>,
    children: HashMap<String, ScopeId>,
    symbols: HashMap<String, SymId>,
}

/// All symbols, scopes and the segment address sizes study needs.
#[derive(Debug, Clone)]
pub struct Symbols {
    pub syms: Vec<Symbol>,
    pub scopes: Vec<Scope>,
    /// Cheap locals per cheap-local area.
    cheap: Vec<HashMap<String, SymId>>,
    pub seg_addr: Vec<AddrSize>,
}

impl Default for Symbols {
    fn default() -> Self {
        Self::new()
    }
}

impl Symbols {
    pub fn new() -> Self {
        Symbols {
            syms: Vec::new(),
            scopes: vec![Scope {
                name: String::new(),
                parent: None,
                children: HashMap::new(),
                symbols: HashMap::new(),
            }],
            cheap: Vec::new(),
            seg_addr: Vec::new(),
        }
    }

    fn push(&mut self, name: &str, scope: ScopeId, cheap: bool) -> SymId {
        let id = self.syms.len() as SymId;
        self.syms.push(Symbol {
            name: name.to_string(),
            scope,
            cheap,
            def: None,
            addr: AddrSize::Default,
            def_pos: None,
            ref_pos: None,
            alias: None,
        });
        id
    }

    /// The symbol `name` in exactly `scope`, if it exists.
    pub fn get_in(&self, scope: ScopeId, name: &str) -> Option<SymId> {
        self.scopes[scope as usize].symbols.get(name).copied()
    }

    /// The symbol `name` in `scope` or the nearest enclosing scope that has one.
    pub fn find_any(&self, mut scope: ScopeId, name: &str) -> Option<SymId> {
        loop {
            if let Some(id) = self.get_in(scope, name) {
                return Some(id);
            }
            scope = self.scopes[scope as usize].parent?;
        }
    }

    /// The symbol `name` in `scope`, created (undefined) when missing.
    pub fn get_or_create(&mut self, scope: ScopeId, name: &str) -> SymId {
        if let Some(id) = self.get_in(scope, name) {
            return id;
        }
        let id = self.push(name, scope, false);
        self.scopes[scope as usize]
            .symbols
            .insert(name.to_string(), id);
        id
    }

    /// A reference to an unqualified name from `scope` (lexical lookup, else a new forward).
    pub fn reference(&mut self, scope: ScopeId, name: &str, pos: Pos) -> SymId {
        let id = match self.find_any(scope, name) {
            Some(id) => id,
            None => self.get_or_create(scope, name),
        };
        let s = &mut self.syms[id as usize];
        if s.ref_pos.is_none() {
            s.ref_pos = Some(pos);
        }
        id
    }

    /// A cheap local in cheap-scope `area`, created when missing.
    pub fn cheap_local(&mut self, area: u32, name: &str, pos: Pos) -> SymId {
        let area = area as usize;
        if self.cheap.len() <= area {
            self.cheap.resize_with(area + 1, HashMap::new);
        }
        let id = match self.cheap[area].get(name) {
            Some(&id) => id,
            None => {
                let id = self.push(name, 0, true);
                self.cheap[area].insert(name.to_string(), id);
                id
            }
        };
        let s = &mut self.syms[id as usize];
        if s.ref_pos.is_none() {
            s.ref_pos = Some(pos);
        }
        id
    }

    /// The child scope `name` of `parent`, if it exists.
    pub fn child_scope(&self, parent: ScopeId, name: &str) -> Option<ScopeId> {
        self.scopes[parent as usize].children.get(name).copied()
    }

    /// Opens a new child scope; `None` when one of that name already exists.
    pub fn new_scope(&mut self, parent: ScopeId, name: &str) -> Option<ScopeId> {
        if self.child_scope(parent, name).is_some() {
            return None;
        }
        let id = self.scopes.len() as ScopeId;
        self.scopes.push(Scope {
            name: name.to_string(),
            parent: Some(parent),
            children: HashMap::new(),
            symbols: HashMap::new(),
        });
        self.scopes[parent as usize]
            .children
            .insert(name.to_string(), id);
        Some(id)
    }

    /// Follows aliases to the symbol that carries the definition.
    pub fn target(&self, mut id: SymId) -> SymId {
        while let Some(next) = self.syms[id as usize].alias {
            id = next;
        }
        id
    }

    /// The definition of a symbol, following aliases.
    pub fn def_of(&self, id: SymId) -> Option<&Expr> {
        self.syms[self.target(id) as usize].def.as_ref()
    }

    /// The scoped name (`outer::inner::name`) of a named symbol.
    pub fn full_name(&self, id: SymId) -> String {
        let s = &self.syms[id as usize];
        let mut parts = vec![s.name.clone()];
        let mut scope = s.scope;
        while let Some(parent) = self.scopes[scope as usize].parent {
            parts.push(self.scopes[scope as usize].name.clone());
            scope = parent;
        }
        parts.reverse();
        parts.join("::")
    }

    /// Resolves undefined inner-scope symbols to outer definitions. Returns the ids that stay
    /// undefined.
    pub fn resolve_outer(&mut self) -> Vec<SymId> {
        let mut missing = Vec::new();
        for id in 0..self.syms.len() {
            let s = &self.syms[id];
            if s.def.is_some() || s.alias.is_some() {
                continue;
            }
            let mut found = None;
            if !s.cheap {
                let mut scope = self.scopes[s.scope as usize].parent;
                while let Some(sc) = scope {
                    if let Some(other) = self.get_in(sc, &s.name) {
                        if self.syms[other as usize].def.is_some() {
                            found = Some(other);
                            break;
                        }
                    }
                    scope = self.scopes[sc as usize].parent;
                }
            }
            match found {
                Some(other) => self.syms[id].alias = Some(other),
                None => missing.push(id as SymId),
            }
        }
        missing
    }
}

impl SymInfo for Symbols {
    fn def(&self, id: SymId) -> Option<&Expr> {
        self.syms[self.target(id) as usize].def.as_ref()
    }
    fn addr_size(&self, id: SymId) -> AddrSize {
        self.syms[self.target(id) as usize].addr
    }
    fn outer_addr_size(&self, id: SymId) -> AddrSize {
        let s = &self.syms[id as usize];
        if s.cheap {
            return AddrSize::Default;
        }
        match self.scopes[s.scope as usize].parent {
            Some(parent) => self
                .find_any(parent, &s.name)
                .map_or(AddrSize::Default, |o| self.syms[o as usize].addr),
            None => AddrSize::Default,
        }
    }
    fn seg_addr_size(&self, seg: SegId) -> AddrSize {
        self.seg_addr
            .get(seg as usize)
            .copied()
            .unwrap_or(AddrSize::Abs)
    }
}
