//! The dump source: a file of `kubectl get namespaces,services,endpointslices,pods -A -o yaml`
//! output.
