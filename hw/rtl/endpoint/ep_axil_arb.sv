`default_nettype none

// Two AXI4-Lite masters onto one slave, one transaction at a time: the host's port (0) and a
// second master inside the endpoint (1, the PCI cfg access window). An idle arbiter grants the
// master that offers AW, W or AR, the second one first; the grant holds until that transaction's
// response (B or R) is taken. The other master sees no ready meanwhile.
module ep_axil_arb #(
  parameter int unsigned AW = 12
) (
  input  wire logic          clk_i,
  input  wire logic          rst_ni,
  // Slave port 0: the host
  input  wire logic [AW-1:0] s0_awaddr_i,
  input  wire logic          s0_awvalid_i,
  output logic               s0_awready_o,
  input  wire logic [31:0]   s0_wdata_i,
  input  wire logic [3:0]    s0_wstrb_i,
  input  wire logic          s0_wvalid_i,
  output logic               s0_wready_o,
  output logic [1:0]         s0_bresp_o,
  output logic               s0_bvalid_o,
  input  wire logic          s0_bready_i,
  input  wire logic [AW-1:0] s0_araddr_i,
  input  wire logic          s0_arvalid_i,
  output logic               s0_arready_o,
  output logic [31:0]        s0_rdata_o,
  output logic [1:0]         s0_rresp_o,
  output logic               s0_rvalid_o,
  input  wire logic          s0_rready_i,
  // Slave port 1: the endpoint's own master (one address for reads and writes)
  input  wire logic [AW-1:0] s1_addr_i,
  input  wire logic          s1_awvalid_i,
  output logic               s1_awready_o,
  input  wire logic [31:0]   s1_wdata_i,
  input  wire logic [3:0]    s1_wstrb_i,
  input  wire logic          s1_wvalid_i,
  output logic               s1_wready_o,
  output logic               s1_bvalid_o,
  input  wire logic          s1_bready_i,
  input  wire logic          s1_arvalid_i,
  output logic               s1_arready_o,
  output logic [31:0]        s1_rdata_o,
  output logic               s1_rvalid_o,
  input  wire logic          s1_rready_i,
  // Master port
  output logic [AW-1:0]      m_awaddr_o,
  output logic               m_awvalid_o,
  input  wire logic          m_awready_i,
  output logic [31:0]        m_wdata_o,
  output logic [3:0]         m_wstrb_o,
  output logic               m_wvalid_o,
  input  wire logic          m_wready_i,
  input  wire logic [1:0]    m_bresp_i,
  input  wire logic          m_bvalid_i,
  output logic               m_bready_o,
  output logic [AW-1:0]      m_araddr_o,
  output logic               m_arvalid_o,
  input  wire logic          m_arready_i,
  input  wire logic [31:0]   m_rdata_i,
  input  wire logic [1:0]    m_rresp_i,
  input  wire logic          m_rvalid_i,
  output logic               m_rready_o
);

  logic busy_q, busy_d;  // a transaction holds the grant
  logic sel_q, sel_d;    // the master that holds it
  logic sel;             // the master this clock's handshakes belong to
  logic req0, req1;
  assign req0 = s0_awvalid_i || s0_wvalid_i || s0_arvalid_i;
  assign req1 = s1_awvalid_i || s1_wvalid_i || s1_arvalid_i;
  assign sel  = busy_q ? sel_q : !req1 ? 1'b0 : 1'b1;

  always_comb begin
    m_awaddr_o  = sel ? s1_addr_i : s0_awaddr_i;
    m_awvalid_o = sel ? s1_awvalid_i : s0_awvalid_i;
    m_wdata_o   = sel ? s1_wdata_i : s0_wdata_i;
    m_wstrb_o   = sel ? s1_wstrb_i : s0_wstrb_i;
    m_wvalid_o  = sel ? s1_wvalid_i : s0_wvalid_i;
    m_bready_o  = sel ? s1_bready_i : s0_bready_i;
    m_araddr_o  = sel ? s1_addr_i : s0_araddr_i;
    m_arvalid_o = sel ? s1_arvalid_i : s0_arvalid_i;
    m_rready_o  = sel ? s1_rready_i : s0_rready_i;

    s0_awready_o = !sel && m_awready_i;
    s0_wready_o  = !sel && m_wready_i;
    s0_bresp_o   = m_bresp_i;
    s0_bvalid_o  = !sel && m_bvalid_i;
    s0_arready_o = !sel && m_arready_i;
    s0_rdata_o   = m_rdata_i;
    s0_rresp_o   = m_rresp_i;
    s0_rvalid_o  = !sel && m_rvalid_i;

    s1_awready_o = sel && m_awready_i;
    s1_wready_o  = sel && m_wready_i;
    s1_bvalid_o  = sel && m_bvalid_i;
    s1_arready_o = sel && m_arready_i;
    s1_rdata_o   = m_rdata_i;
    s1_rvalid_o  = sel && m_rvalid_i;
  end

  always_comb begin
    busy_d = busy_q;
    sel_d  = sel_q;
    if (!busy_q && (req0 || req1)) begin
      busy_d = 1'b1;
      sel_d  = sel;
    end
    // The response taken ends the transaction.
    if ((m_bvalid_i && m_bready_o) || (m_rvalid_i && m_rready_o)) busy_d = 1'b0;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      busy_q <= 1'b0;
      sel_q  <= 1'b0;
    end else begin
      busy_q <= busy_d;
      sel_q  <= sel_d;
    end
  end

endmodule

`default_nettype wire
