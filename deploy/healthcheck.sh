#!/bin/bash
# The image's HEALTHCHECK: GET /healthz on kotae's health endpoint, healthy
# only on 200 (fact base loaded and every enabled adapter connected). Plain
# bash with /dev/tcp, so the slim runtime image needs no curl or wget.
#
# The endpoint is found from KOTAE_HTTP_LISTEN (the image sets 0.0.0.0:9184);
# a wildcard address is reached through loopback.
set -u
listen=${KOTAE_HTTP_LISTEN:-127.0.0.1:9184}
port=${listen##*:}
host=${listen%:*}
host=${host#[}
host=${host%]}
case "$host" in
    "" | 0.0.0.0) host=127.0.0.1 ;;
    ::) host=::1 ;;
esac

if ! exec 3<>"/dev/tcp/$host/$port"; then
    echo "kotae: nothing listens on $host:$port"
    exit 1
fi
printf 'GET /healthz HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$host" >&3
IFS=$' \r' read -r -t 5 _ code _ <&3 || { echo "kotae: no answer from /healthz"; exit 1; }
# The JSON body, for `docker inspect` (it names what is not connected).
while IFS= read -r -t 2 line <&3; do
    [ "$line" = $'\r' ] && break
done
head -c 512 <&3
echo
[ "$code" = 200 ]
