FROM 127.0.0.1:1/nothere:1
RUN true
