#!/bin/sh
cat /app/message.txt
echo "hello, $1 (running as $(id -un) in $(pwd))"
