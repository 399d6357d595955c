`default_nettype none

// AXI4-Lite as it travels inside the RTL: one request struct (master to slave) and one response
// struct (slave to master) per link, 32-bit data and a 32-bit address of which a slave decodes
// the bits it needs. The tops keep flat ports (the co-simulation ABI is generated from them) and
// pack them into these structs once.
package axil_pkg;

  typedef struct packed {
    logic [31:0] awaddr;
    logic        awvalid;
    logic [31:0] wdata;
    logic [3:0]  wstrb;
    logic        wvalid;
    logic        bready;
    logic [31:0] araddr;
    logic        arvalid;
    logic        rready;
  } axil_req_t;

  typedef struct packed {
    logic        awready;
    logic        wready;
    logic [1:0]  bresp;
    logic        bvalid;
    logic        arready;
    logic [31:0] rdata;
    logic [1:0]  rresp;
    logic        rvalid;
  } axil_rsp_t;

  localparam axil_req_t AXIL_REQ_IDLE = '0;
  localparam axil_rsp_t AXIL_RSP_IDLE = '0;

endpackage

`default_nettype wire
