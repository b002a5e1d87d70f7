//! Who is calling a facade, as far as ponte knows. The facade fills it in before a call: the peer
//! address from the connection, and, once inbound auth has accepted the call, the name of the
//! credential that was used. Inbound rate limits and the call log key on it; nothing else does.

use std::net::IpAddr;
use std::sync::Arc;

#[derive(Clone, Debug, Default)]
pub(crate) struct Caller {
    /// The peer address of the connection (not a forwarded header: those are the caller's word).
    pub address: Option<IpAddr>,
    /// The name of the API key, HMAC secret or JWT subject that authenticated the call.
    pub credential: Option<Arc<str>>,
}
