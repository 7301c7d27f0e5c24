#!/bin/sh
echo "hello from $(hostname -s 2>/dev/null || echo build)" | cut -c1-10
