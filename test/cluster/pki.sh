# Certificates and kubeconfigs of the local cluster (sourced by up.sh). One cluster CA signs every
# serving and client certificate; client identities are the certificate's CN (user) and O
# (groups), which is how the apiserver's client-cert authentication reads them. ECDSA P-256 keys
# keep generation instant; the service-account signing key is RSA as the apiserver expects.
# shellcheck shell=bash

# new_ca <name> <common name>: a self-signed CA, pki/<name>.{crt,key}.
new_ca() {
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -days 3650 \
    -subj "/CN=$2" -keyout "$pki_dir/$1.key" -out "$pki_dir/$1.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    2>/dev/null
}

# new_cert <ca> <name> <subject> <clientAuth|serverAuth> [subjectAltName]: pki/<name>.{crt,key}
# signed by pki/<ca>.
new_cert() {
  local ca="$1" name="$2" subject="$3" usage="$4" sans="${5:-}"
  local extensions="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=$usage"
  [[ -z "$sans" ]] || extensions+=$'\n'"subjectAltName=$sans"
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -subj "$subject" \
    -keyout "$pki_dir/$name.key" 2>/dev/null |
    openssl x509 -req -CA "$pki_dir/$ca.crt" -CAkey "$pki_dir/$ca.key" -days 365 \
      -set_serial "0x$(openssl rand -hex 16)" -extfile <(echo "$extensions") -out "$pki_dir/$name.crt" 2>/dev/null
}

# write_kubeconfig <file> <user> <cert name>: a kubeconfig for the apiserver on loopback that
# authenticates with pki/<cert name>, certificates embedded so the file can be copied anywhere.
write_kubeconfig() {
  local file="$1" user="$2" cert="$3"
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: tm-local
    cluster:
      server: $apiserver_url
      certificate-authority-data: $(base64 -w0 "$pki_dir/ca.crt")
users:
  - name: $user
    user:
      client-certificate-data: $(base64 -w0 "$pki_dir/$cert.crt")
      client-key-data: $(base64 -w0 "$pki_dir/$cert.key")
contexts:
  - name: $user@tm-local
    context:
      cluster: tm-local
      user: $user
current-context: $user@tm-local
EOF
  chmod 600 "$file"
}

# node_names: tm-node-1 .. tm-node-N, N from TM_NODES (default 2).
node_names() {
  local count="${TM_NODES:-2}" i
  [[ "$count" =~ ^[0-9]+$ ]] || die "TM_NODES must be a whole number, got '$count'"
  for ((i = 1; i <= count; i++)); do echo "tm-node-$i"; done
}

# write_pki: every certificate and kubeconfig the control plane and the node agents use.
write_pki() {
  mkdir -p "$pki_dir"
  chmod 700 "$pki_dir"
  new_ca ca tm-local-ca
  new_ca front-proxy-ca tm-local-front-proxy-ca
  openssl genrsa -out "$pki_dir/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki_dir/sa.key" -pubout -out "$pki_dir/sa.pub" 2>/dev/null

  local service_names="DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
  service_names+=",DNS:kubernetes.default.svc.$cluster_domain,DNS:localhost"
  new_cert ca apiserver "/CN=kube-apiserver" serverAuth \
    "$service_names,IP:127.0.0.1,IP:$kubernetes_service_ip"
  new_cert ca apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
  new_cert front-proxy-ca front-proxy-client "/CN=front-proxy-client" clientAuth
  new_cert ca admin "/O=system:masters/CN=kubernetes-admin" clientAuth
  new_cert ca controller-manager "/CN=system:kube-controller-manager" clientAuth
  new_cert ca controller-manager-serving "/CN=kube-controller-manager" serverAuth "DNS:localhost,IP:127.0.0.1"
  new_cert ca scheduler "/CN=system:kube-scheduler" clientAuth
  new_cert ca scheduler-serving "/CN=kube-scheduler" serverAuth "DNS:localhost,IP:127.0.0.1"

  write_kubeconfig "$admin_kubeconfig" kubernetes-admin admin
  write_kubeconfig "$state_dir/controller-manager.kubeconfig" system:kube-controller-manager controller-manager
  write_kubeconfig "$state_dir/scheduler.kubeconfig" system:kube-scheduler scheduler

  # Each node gets the identity the Node authorizer and NodeRestriction admission expect, and a
  # serving certificate for its kubelet endpoint on loopback (the apiserver verifies it).
  local node
  for node in $(node_names); do
    new_cert ca "node-$node" "/O=system:nodes/CN=system:node:$node" clientAuth
    new_cert ca "node-$node-serving" "/O=system:nodes/CN=system:node:$node" serverAuth \
      "DNS:$node,DNS:localhost,IP:127.0.0.1"
    write_kubeconfig "$state_dir/node-$node.kubeconfig" "system:node:$node" "node-$node"
  done
}
