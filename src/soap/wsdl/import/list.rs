//! `ponte import wsdl --list`: services, ports, bindings and operations with style and use, so
//! that a person can choose `--service`, `--port` and `--operations`.

use crate::soap::wsdl::Wsdl;
use crate::soap::wsdl::definitions::Binding;

pub(crate) fn list(wsdl: &Wsdl) -> String {
    let mut out = String::new();
    for s in &wsdl.defs.services {
        out.push_str(&format!("service {}\n", s.name));
        for p in &s.ports {
            let binding = wsdl.defs.binding(&p.binding);
            out.push_str(&format!(
                "  port {} -> binding {} ({}) at {}\n",
                p.name,
                p.binding.local,
                binding.map_or("missing", |b| b.kind.label()),
                p.address.as_deref().unwrap_or("(no address)")
            ));
        }
    }
    if wsdl.defs.services.is_empty() {
        out.push_str("no wsdl:service: import a binding with --port BINDING (and set the URL)\n");
    }
    for b in &wsdl.defs.bindings {
        out.push_str(&format!(
            "binding {} ({}), port type {}: {} operation(s)\n",
            b.name.local,
            b.kind.label(),
            b.port_type.local,
            b.operations.len()
        ));
        operations(wsdl, b, &mut out);
    }
    out
}

fn operations(wsdl: &Wsdl, b: &Binding, out: &mut String) {
    for op in &b.operations {
        let style = if !b.kind.is_soap() {
            "http".to_string()
        } else {
            format!(
                "{}/{}",
                if op.rpc { "rpc" } else { "document" },
                if op.input.encoded {
                    "encoded"
                } else {
                    "literal"
                }
            )
        };
        let faults = wsdl
            .operation(b, &op.name)
            .map(|o| o.faults.len())
            .unwrap_or(0);
        let mut extra = Vec::new();
        if let Some(a) = &op.soap_action {
            extra.push(format!("soapAction \"{a}\""));
        }
        if faults > 0 {
            extra.push(format!("{faults} fault(s)"));
        }
        if !op.headers.is_empty() {
            extra.push(format!("{} header part(s)", op.headers.len()));
        }
        out.push_str(&format!(
            "  {} [{style}]{}\n",
            op.name,
            if extra.is_empty() {
                String::new()
            } else {
                format!(" {}", extra.join(", "))
            }
        ));
    }
}
