//! The SOAP kind's part of the adapter file: `backend.soap` and the keys of a SOAP route.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::config::Spanned;
use crate::config::model::RequestTree;
use crate::config::route::route_type;

/// A SOAP 1.1 or 1.2 service.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SoapBackend {
    /// Endpoint URL; `${NAME:-default}` takes it from the environment.
    pub url: Spanned<String>,
    #[serde(default)]
    pub version: SoapVersion,
    /// Target namespace of the service's messages.
    pub namespace: Spanned<String>,
    #[serde(default)]
    pub style: SoapStyle,
    /// `literal` (default) or `encoded` (rpc/encoded: parts carry `xsi:type`).
    #[serde(rename = "use", default)]
    pub encoding: SoapUse,
    /// Whether child elements of the body are in the namespace (`qualified`, default) or not.
    #[serde(default)]
    pub element_form: ElementForm,
    /// The SOAPAction sent: `{namespace}` and `{operation}` are replaced. Default
    /// `{namespace}{operation}` (with a `/` between when the namespace lacks one). `""` sends none.
    #[serde(default)]
    pub soap_action: Option<Spanned<String>>,
    /// Extra namespace prefixes usable in element names (`wsse:Security`).
    #[serde(default)]
    pub namespaces: IndexMap<Spanned<String>, Spanned<String>>,
    /// The service's WSDL (relative to the adapter file), read once at load: replies become
    /// schema-true (repeating elements are arrays, XSD types give JSON types when a mapping
    /// has no `type:`) and `check` reports reply paths that the operation's reply cannot have.
    #[serde(default)]
    pub wsdl: Option<Spanned<String>>,
    /// SOAP header elements sent with every call, as a tree like `request`.
    #[serde(default)]
    pub headers: Option<RequestTree>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum SoapVersion {
    #[default]
    #[serde(rename = "1.1")]
    V11,
    #[serde(rename = "1.2")]
    V12,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SoapStyle {
    #[default]
    Document,
    Rpc,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SoapUse {
    #[default]
    Literal,
    Encoded,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ElementForm {
    #[default]
    Qualified,
    Unqualified,
}

route_type! {
    /// One REST route over a SOAP operation.
    pub struct SoapRoute ("SOAP") {
        /// The SOAP operation called. `prefix:Name` puts the operation element (rpc) and the
        /// default SOAPAction in the namespace `prefix` names in `backend.soap.namespaces`.
        #[serde(default)]
        pub operation: Option<Spanned<String>>,
        /// The target namespace of this route's operation: overrides `backend.soap.namespace` for
        /// its body elements (the `tns` prefix) and its default SOAPAction.
        #[serde(default)]
        pub namespace: Option<Spanned<String>>,
        /// Overrides the backend's SOAPAction for this route.
        #[serde(default)]
        pub soap_action: Option<Spanned<String>>,
        /// The SOAP body as a tree: keys are elements (`@name` attributes), leaves are `$input` or text.
        #[serde(default)]
        pub request: Option<RequestTree>,
        /// Paths in the reply that are always arrays, even with one or no element.
        #[serde(default)]
        pub arrays: Vec<Spanned<String>>,
    }
    arrays: |r| &r.arrays
}
