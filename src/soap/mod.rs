//! The SOAP kind: everything about SOAP 1.1 and 1.2 backends. Its adapter keys (`model`), the
//! envelope each route sends (`envelope`), replies and faults (`reply`), and what a contract
//! fixture expects of a SOAP request (`fixture`).

pub(crate) mod envelope;
pub(crate) mod fixture;
pub(crate) mod model;
pub(crate) mod multiref;
pub(crate) mod reply;
pub(crate) mod schema;
pub(crate) mod wsdl;

pub use envelope::{SoapCall, SoapSettings};
pub use model::{SoapBackend, SoapRoute};
pub use reply::{SoapReply, read_soap};

use crate::config::{Spanned, Tree, TreeKind};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::kind::KindCompiled;
use crate::xml::template::InputRef;

/// Compiles a route's envelope; marks the inputs the body uses in `used`.
pub(crate) fn compile_route<'r>(
    name: &Spanned<String>,
    route: &'r SoapRoute,
    soap: &SoapSettings,
    refs: &[InputRef],
    used: &mut [bool],
    errors: &mut Diagnostics,
) -> KindCompiled<'r> {
    let literal = route.request.as_ref().map(|r| &r.0);
    let Some(operation) = &route.operation else {
        errors.push(
            Diagnostic::error(
                name.span,
                format!("route `{}` names no SOAP `operation`", name.value),
            )
            .with_help("add `operation: <OperationName>` from the WSDL"),
        );
        return KindCompiled::failed("request", literal);
    };
    if let Some(action) = &route.soap_action
        && action.value.contains(['"', '\r', '\n'])
    {
        errors.push(Diagnostic::error(
            action.span,
            "soap_action cannot contain quotes or line breaks",
        ));
    }
    crate::faults::refuse_when(&route.faults, "SOAP", errors);
    // Without `request`, the body is the operation's empty wrapper element.
    let default_body;
    let body = match literal {
        Some(r) => r,
        None => {
            default_body = Tree {
                span: operation.span,
                kind: TreeKind::Map(vec![(
                    operation.clone(),
                    Tree {
                        span: operation.span,
                        kind: TreeKind::Null,
                    },
                )]),
            };
            &default_body
        }
    };
    let namespace = route
        .namespace
        .as_ref()
        .map_or(soap.namespace.as_str(), |n| n.value.as_str());
    let resolved = soap.operation(operation, namespace, errors);
    let reply_schema = soap
        .wsdl
        .as_ref()
        .and_then(|wsdl| schema::ReplySchema::of(wsdl, operation, &resolved.local, errors));
    if let Some(schema) = &reply_schema {
        schema.check_paths(
            &resolved.local,
            route.response.as_ref().map(|r| &r.0),
            route.not_found.as_ref(),
            &route.arrays,
            errors,
        );
    }
    let call = soap.compile_call(
        &resolved,
        route.soap_action.as_ref(),
        Some(body),
        refs,
        used,
        errors,
    );
    KindCompiled {
        call: Some(crate::kind::Call::Soap(call)),
        uses_in: "request",
        literal,
        reply_schema,
    }
}

#[cfg(test)]
mod tests;
