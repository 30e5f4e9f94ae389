//! The API's description, built by the same declarations that route it. An operation is routed
//! from its documentation: its path and method are read off the `#[utoipa::path]` attribute of
//! its handler, so no route goes undocumented and no documented route goes unserved.

use crate::AppState;
use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodFilter, on};
use liaison_store::Store;
use utoipa::openapi::path::{HttpMethod, Paths};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::{Components, OpenApi, RefOr};

/// One face's routes with their description.
pub(crate) struct Routes<S: Store> {
    router: Router<AppState<S>>,
    paths: Paths,
    schemas: Vec<(String, RefOr<Schema>)>,
}

impl<S: Store> Routes<S> {
    pub(crate) fn new() -> Self {
        Routes {
            router: Router::new(),
            paths: Paths::new(),
            schemas: Vec::new(),
        }
    }

    /// Routes `handler` where `doc` (its handler's `__path_` type) says, and describes it.
    pub(crate) fn op<D, H, T>(mut self, doc: D, handler: H) -> Self
    where
        D: utoipa::Path + utoipa::__dev::SchemaReferences + for<'t> utoipa::__dev::Tags<'t>,
        H: Handler<T, AppState<S>>,
        T: 'static,
    {
        let _ = doc;
        let path = D::path();
        let methods = D::methods();
        let filter = methods
            .iter()
            .map(|m| method(m).0)
            .reduce(MethodFilter::or)
            .expect("an operation has a method");
        self.router = self.router.route(&path, on(filter, handler));
        let mut operation = D::operation();
        // Handlers of different resources share names (`list`, `get_one`): the id is made of
        // the method and the path instead, which no two operations share.
        operation.operation_id = Some(operation_id(&methods, &path));
        let tags = D::tags();
        if !tags.is_empty() {
            operation
                .tags
                .get_or_insert_with(Vec::new)
                .extend(tags.iter().map(|t| t.to_string()));
        }
        self.paths.add_path_operation(&path, methods, operation);
        D::schemas(&mut self.schemas);
        self
    }

    /// Applies `layer` to every route added so far.
    pub(crate) fn layer<L>(mut self, layer: L) -> Self
    where
        L: tower::Layer<axum::routing::Route> + Clone + Send + Sync + 'static,
        L::Service: tower::Service<axum::extract::Request> + Clone + Send + Sync + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Response:
            axum::response::IntoResponse + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Error:
            Into<std::convert::Infallible> + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Future: Send + 'static,
    {
        self.router = self.router.layer(layer);
        self
    }

    pub(crate) fn merge(mut self, other: Routes<S>) -> Self {
        self.router = self.router.merge(other.router);
        self.paths.merge(other.paths);
        self.schemas.extend(other.schemas);
        self
    }

    /// The router, and the description of its operations with every schema they name.
    pub(crate) fn split(self) -> (Router<AppState<S>>, OpenApi) {
        let mut components = Components::new();
        for (name, schema) in self.schemas {
            components.schemas.insert(name, schema);
        }
        let mut doc = OpenApi::new(utoipa::openapi::Info::new("", ""), self.paths);
        doc.components = Some(components);
        (self.router, doc)
    }
}

/// `get /integrations/engagements/{id}` → `getIntegrationsEngagementsById`.
fn operation_id(methods: &[HttpMethod], path: &str) -> String {
    let mut id = String::from(method(&methods[0]).1);
    for segment in path.split(['/', '-']).filter(|s| !s.is_empty()) {
        let (by, word) = match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(param) => ("By", param),
            None => ("", segment),
        };
        id.push_str(by);
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            id.extend(first.to_uppercase());
            id.push_str(chars.as_str());
        }
    }
    id
}

/// How axum routes a method, and how an operation id spells it.
fn method(m: &HttpMethod) -> (MethodFilter, &'static str) {
    match m {
        HttpMethod::Get => (MethodFilter::GET, "get"),
        HttpMethod::Put => (MethodFilter::PUT, "put"),
        HttpMethod::Post => (MethodFilter::POST, "post"),
        HttpMethod::Delete => (MethodFilter::DELETE, "delete"),
        HttpMethod::Options => (MethodFilter::OPTIONS, "options"),
        HttpMethod::Head => (MethodFilter::HEAD, "head"),
        HttpMethod::Patch => (MethodFilter::PATCH, "patch"),
        HttpMethod::Trace => (MethodFilter::TRACE, "trace"),
    }
}
